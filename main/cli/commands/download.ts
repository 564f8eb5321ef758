import type { Command } from 'commander';
import { PRETRAINED, cachedPretrained, fetchCheckpoint, torchHubCheckpointsDir } from '../../engine/import/pretrained';
import { downloadBar } from '../download-progress';

/**
 * `densenet-workbench download densenet121|densenet169|densenet201|densenet161|URL [--json]`:
 * torchvision's ImageNet weights (or any checkpoint URL whose file name carries a sha256 prefix)
 * into the torch hub cache, verified; `--list` shows what is published and what is cached.
 */
interface DownloadFlags {
  list?: boolean;
  json?: boolean;
}

export function registerDownload(program: Command): void {
  program
    .command('download')
    .description("Download torchvision's ImageNet DenseNet weights into the torch hub cache ($TORCH_HOME/hub/checkpoints), checked against the sha256 in their name.")
    .argument('[weights]', 'densenet121, densenet169, densenet201, densenet161, or a URL of a name-<sha256 prefix>.pth file')
    .option('--list', 'list the weights torchvision publishes and which are in the cache')
    .option('--json', 'print the result as JSON')
    .action(async (weights: string | undefined, flags: DownloadFlags) => {
      const dir = torchHubCheckpointsDir();
      if (flags.list || !weights) {
        const rows = PRETRAINED.map((p) => ({ ...p, cached: cachedPretrained(p, dir) }));
        if (flags.json) process.stdout.write(JSON.stringify({ cacheDir: dir, weights: rows }) + '\n');
        else {
          process.stdout.write(`torchvision ImageNet weights (cache: ${dir}):\n`);
          for (const r of rows) {
            process.stdout.write(`  ${r.name.padEnd(12)} ${String(r.megabytes).padStart(6)} MB  top-1 ${r.imagenetTop1.toFixed(1)}%  ${r.cached ? `cached: ${r.cached}` : r.url}\n`);
          }
        }
        return;
      }
      const bar = flags.json ? { onProgress: () => {}, stop: () => {} } : downloadBar(`Downloading ${weights}`);
      let result;
      try {
        result = await fetchCheckpoint(weights, { cacheDir: dir, onProgress: bar.onProgress });
      } finally {
        bar.stop();
      }
      if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        const how = result.cached ? 'Already in the cache' : result.resumedFrom > 0 ? `Downloaded (resumed at ${formatBytes(result.resumedFrom)})` : 'Downloaded';
        process.stdout.write(`${how}: ${result.file} (${formatBytes(result.bytes)}, sha256 ${result.sha256.slice(0, 12)}…, verified).\n`);
      }
    });
}

/** 12.3 kB, 30.8 MB (SI units, as download sizes are quoted). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} bytes`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}
