import type { PretrainedWeights } from '../engine/import/pretrained';
import type { WeightsPort } from './ports';

/**
 * The WeightsPort over the engine's import modules (main/engine/import), loaded lazily so the host
 * stays light until the New run screen asks for pretrained weights. Downloads go to the torch hub
 * cache, where `densenet-workbench download` and PyTorch itself look too.
 *
 * @param table the weights on offer; default torchvision's (tests pass their own fixture).
 */
export function weightsPort(env: NodeJS.ProcessEnv = process.env, table?: readonly PretrainedWeights[]): WeightsPort {
  const load = async () => {
    const m = await import('../engine/import/pretrained');
    return { ...m, table: table ?? m.PRETRAINED };
  };
  return {
    async catalog() {
      const { table: weights, cachedPretrained, torchHubCheckpointsDir } = await load();
      const cacheDir = torchHubCheckpointsDir(env);
      return {
        cacheDir,
        weights: weights.map((p) => ({ name: p.name, fileName: p.fileName, url: p.url, megabytes: p.megabytes, imagenetTop1: p.imagenetTop1, cached: cachedPretrained(p, cacheDir) })),
      };
    },
    async download(name, onProgress) {
      const { table: weights, fetchCheckpoint, pretrainedUrl } = await load();
      const entry = weights.find((p) => p.name === name);
      if (!entry) throw new Error(`No weights named ${name} on offer.`);
      // By URL: its file name carries the sha256 prefix the download is checked against.
      const result = await fetchCheckpoint(pretrainedUrl(entry, env), { env, onProgress: (p) => onProgress(p.received, p.total) });
      return { file: result.file, bytes: result.bytes, sha256: result.sha256, cached: result.cached };
    },
    async describe(source) {
      const { describeStartFrom } = await import('../engine/import/start-from');
      return describeStartFrom(source);
    },
  };
}
