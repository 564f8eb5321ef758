import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';

/**
 * Loading of the optional native backends (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node).
 * They are optionalDependencies whose install downloads libtensorflow; where that download failed
 * npm dropped them, so every step here may fail and must only ever produce a reason string.
 */
export type ImportModule = (specifier: string) => Promise<unknown>;

// A variable specifier keeps TypeScript and bundlers from resolving a package that may be absent.
export const defaultImport: ImportModule = (specifier) => import(/* @vite-ignore */ specifier);

export type NativeFlavour = 'tfjs-node-gpu' | 'tfjs-node';

export interface NativeLoad {
  ok: boolean;
  reason?: string;
  usingGpu?: boolean;
  version?: string;
}

/** One line from whatever a loader threw: the dlopen message says which library is missing. */
export function describeLoadError(err: unknown, specifier: string): string {
  const e = err as { code?: string; message?: string };
  const message = String(e?.message ?? err);
  if ((e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && message.includes(specifier)) {
    return 'not installed';
  }
  const shared = /([\w.+-]+\.so(?:\.[\d.]+)?): cannot open shared object file/.exec(message);
  if (shared) return `${shared[1]} not found`;
  return message.split('\n')[0].trim() || 'failed to load';
}

/**
 * Imports a native package. Both register a backend named 'tensorflow' on import; they only share
 * our engine if they resolved the same @tensorflow/tfjs-core copy (one pinned version, 4.22.0,
 * deduplicated by npm). A second copy would register into an engine nobody else sees, so that case
 * is reported as a skip instead of silently training on another engine.
 */
export async function loadNative(flavour: NativeFlavour, importModule: ImportModule = defaultImport): Promise<NativeLoad> {
  const specifier = `@tensorflow/${flavour}`;
  let mod: { version?: Record<string, string> } | undefined;
  try {
    mod = (await importModule(specifier)) as typeof mod;
  } catch (err) {
    return { ok: false, reason: describeLoadError(err, specifier) };
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    const theirs = mod?.version?.['tfjs-core'] ?? 'unknown';
    return { ok: false, reason: `registered its backend in another @tensorflow/tfjs-core copy (${theirs}; ours is ${tf.version_core})` };
  }
  const version = mod?.version?.['tfjs-node'] ?? tf.version_core;
  return { ok: true, version };
}

/** Whether the active 'tensorflow' backend placed work on a CUDA device. */
export function tensorflowUsesGpu(): boolean {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice === true;
}

/** The GPU's name from nvidia-smi, when the driver tools are there; TF.js itself does not expose it. */
export function cudaDeviceName(): string | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    const first = out.split('\n')[0].trim();
    return first || null;
  } catch {
    return null;
  }
}
