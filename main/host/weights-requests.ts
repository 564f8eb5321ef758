import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DescribeWeightsRequest, DownloadedWeights, HostEvent } from '../../shared/api';
import { WorkbenchError } from '../../shared/errors';
import type { PretrainedName, StartFrom } from '../../shared/start-from';
import type { PathPolicy } from './paths';
import type { EnginePorts } from './ports';

/**
 * The WorkbenchService's pretrained-weights calls: the catalog, downloads (one per name at a time,
 * progress to the UI at most five times a second) and reading a source. It also turns a source the
 * UI names (a file path, a run id) into one the trainer can open, checked like every path from a
 * browser: a weights file must lie under the roots or in the torch hub cache.
 */
export class WeightsRequests {
  private readonly downloads = new Map<PretrainedName, Promise<DownloadedWeights>>();

  constructor(
    private readonly ports: EnginePorts,
    private readonly paths: PathPolicy,
    private readonly emit: (event: HostEvent) => void,
    private readonly now: () => number = Date.now,
  ) {}

  catalog() {
    return this.ports.weights.catalog();
  }

  download(name: PretrainedName): Promise<DownloadedWeights> {
    let job = this.downloads.get(name);
    if (!job) {
      let last = Number.NEGATIVE_INFINITY;
      job = this.ports.weights.download(name, (received, total) => {
        const t = this.now();
        if (t - last < 200 && received !== total) return;
        last = t;
        this.emit({ type: 'weightsDownload', name, received, total, time: t });
      }).finally(() => this.downloads.delete(name));
      this.downloads.set(name, job);
    }
    return job;
  }

  async describe(request: DescribeWeightsRequest & { checkpoint?: string }) {
    return this.ports.weights.describe(await this.source(request));
  }

  /** The source as the trainer opens it: a checked file path, or a run's folder. */
  async source(from: Exclude<StartFrom, { kind: 'scratch' }> | (DescribeWeightsRequest & { checkpoint?: string })): Promise<Exclude<StartFrom, { kind: 'scratch' }>> {
    if (from.kind === 'run') {
      const stored = await this.ports.runs.open(from.run);
      return { kind: 'run', run: stored.dir, checkpoint: from.checkpoint ?? 'best' };
    }
    const cacheDir = (await this.ports.weights.catalog()).cacheDir;
    return { kind: 'weights', file: await this.readableWeights(from.file, cacheDir) };
  }

  /** A weights file under the roots, or in the torch hub cache (where downloads go). */
  private async readableWeights(file: string, cacheDir: string): Promise<string> {
    if (path.isAbsolute(file) && !file.split(/[\\/]/).includes('..')) {
      const [real, cache] = await Promise.all([fs.realpath(file).catch(() => null), fs.realpath(cacheDir).catch(() => null)]);
      if (real && cache && real.startsWith(cache + path.sep)) return real;
    }
    const checked = await this.paths.readable(file);
    const stat = await fs.stat(checked).catch(() => null);
    if (!stat?.isFile()) throw new WorkbenchError(`${file} is not a weights file; choose a .pth or .safetensors file.`);
    return checked;
  }
}
