import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../shared/errors';
import type { BackendName } from '../../../shared/training';
import { cudaDeviceName, defaultImport, loadNative, tensorflowUsesGpu, type ImportModule } from './native';
import { formatBackendReport, type BackendReport, type SkippedBackend } from './report';
import { patchConv2DLayer } from './conv-layer-patch';
import { installTapeMemoryRelease } from './tape-memory';
import { initWasmTraining } from './wasm/init';
import { defaultThreadCount } from './wasm/threads';

export { formatBackendReport };
export type { BackendReport, SkippedBackend };
export type { ActiveBackend } from './report';

export interface InitBackendOptions {
  /** wasm: XNNPACK threads (default: the cores available, at most 8). */
  threads?: number;
  /** wasm: cap the heap below 4 GiB (tests; see wasm/init.ts). */
  heapLimitBytes?: number;
  /** Injected module loader, for tests of the fallback path. */
  importModule?: ImportModule;
}

/**
 * Picks and initialises the TF.js backend (the README's Backends table):
 * tfjs-node-gpu with CUDA -> tfjs-node -> wasm with this project's training kernels -> cpu.
 * `requested` other than 'auto' forces one and fails if it cannot start. A missing or broken
 * optional native package is never fatal: it only adds a line to `skipped`.
 * Safe to call again; the same request returns the cached report.
 */
export async function initBackend(requested: BackendName = 'auto', opts: InitBackendOptions = {}): Promise<BackendReport> {
  const key = `${requested}/${opts.threads ?? ''}/${opts.heapLimitBytes ?? ''}`;
  const cached = cache.get(key);
  if (cached && !opts.importModule) {
    const report = await cached;
    if (tf.getBackend() === report.name) return report;
  }
  const pending = select(requested, opts).then((report) => {
    if (!opts.importModule) active = report;
    return report;
  });
  if (!opts.importModule) cache.set(key, pending);
  pending.catch(() => cache.delete(key));
  return pending;
}

const cache = new Map<string, Promise<BackendReport>>();

/** The backend the last successful initBackend started in this process. */
let active: BackendReport | null = null;

/**
 * The backend for engine work outside a trainer (inspection, evaluation, export, import, predict).
 * Every use case that makes tensors calls this first, so none depends on a caller, or an earlier
 * test, having started a backend. In a long-lived host (serve, Electron) the backend already
 * running is kept, whatever `preferred` says: switching would strand the tensors of models already
 * open. In a fresh process `preferred` is started by startBackend.
 */
export async function ensureBackend(preferred: BackendName = 'auto', opts: Pick<InitBackendOptions, 'threads'> = {}): Promise<BackendReport> {
  if (active && tf.getBackend() === active.name) return active;
  return startBackend(preferred, opts);
}

/** initBackend for a user's request: a backend asked for by name that cannot start is a user error naming the alternatives. */
export async function startBackend(name: BackendName, opts: Pick<InitBackendOptions, 'threads'> = {}): Promise<BackendReport> {
  try {
    return await initBackend(name, opts.threads !== undefined ? { threads: opts.threads } : {});
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new WorkbenchError(`${reason} Use --backend auto to take the best one available, or --backend cpu.`, { cause: err });
  }
}

/**
 * tfjs-backend-cpu greets its first tensor in Node with a banner recommending tfjs-node. The
 * workbench has already chosen, and said why (the report's `skipped` lines), so the banner only
 * clutters the terminal. tfjs prints it through its warn(), which the PROD flag silences; the flag
 * is raised only around that first write, so tfjs's other warnings still reach the user.
 */
function greetCpuQuietly(): void {
  const env = tf.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    tf.tidy(() => tf.scalar(0));
  } finally {
    env.set('PROD', prod);
  }
}

function cpuModel(): string {
  return os.cpus()[0]?.model?.trim() || `${os.arch()} CPU`;
}

async function select(requested: BackendName, opts: InitBackendOptions): Promise<BackendReport> {
  installTapeMemoryRelease();
  patchConv2DLayer();
  const importModule = opts.importModule ?? defaultImport;
  const skipped: SkippedBackend[] = [];
  const want = (b: 'tensorflow' | 'wasm' | 'cpu') => requested === 'auto' || requested === b;

  if (want('tensorflow')) {
    const gpu = await loadNative('tfjs-node-gpu', importModule);
    if (gpu.ok && (await tf.setBackend('tensorflow'))) {
      if (tensorflowUsesGpu()) {
        return { name: 'tensorflow', flavour: 'tfjs-node-gpu', version: gpu.version!, device: cudaDeviceName() ?? 'CUDA GPU', threads: os.cpus().length, skipped };
      }
      skipped.push({ backend: 'tfjs-node-gpu', reason: 'loaded, but TensorFlow found no CUDA device' });
      // The GPU build still runs TensorFlow's CPU kernels; keep it rather than load a second libtensorflow.
      return { name: 'tensorflow', flavour: 'tfjs-node-gpu (CPU)', version: gpu.version!, device: cpuModel(), threads: os.cpus().length, skipped };
    }
    skipped.push({ backend: 'tfjs-node-gpu', reason: gpu.reason ?? 'backend failed to initialise' });
    const cpuNative = await loadNative('tfjs-node', importModule);
    if (cpuNative.ok && (await tf.setBackend('tensorflow'))) {
      return { name: 'tensorflow', flavour: 'tfjs-node', version: cpuNative.version!, device: cpuModel(), threads: os.cpus().length, skipped };
    }
    skipped.push({ backend: 'tfjs-node', reason: cpuNative.reason ?? 'backend failed to initialise' });
    if (requested === 'tensorflow') throw new Error(`The tensorflow backend is unavailable: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}.`);
  }

  if (want('wasm')) {
    try {
      const w = await initWasmTraining(opts.threads ?? defaultThreadCount(), opts.heapLimitBytes ? { heapLimitBytes: opts.heapLimitBytes } : {});
      if (w.note) skipped.push({ backend: 'wasm threads', reason: w.note });
      if (w.kernelsNote) skipped.push({ backend: 'relaxed-SIMD kernels', reason: w.kernelsNote });
      return { name: 'wasm', flavour: 'wasm+training-kernels', version: tf.version_core, device: cpuModel(), threads: w.threads, simd: w.simd, kernels: w.relaxedSimd ? 'relaxed-simd' : 'simd', heapLimitBytes: w.heapLimitBytes, heapBaseBytes: w.heapBaseBytes, skipped };
    } catch (err) {
      const reason = (err as Error)?.message ?? String(err);
      if (requested === 'wasm') throw new Error(`The wasm backend is unavailable: ${reason}`);
      skipped.push({ backend: 'wasm', reason });
    }
  }

  if (!(await tf.setBackend('cpu'))) throw new Error('Even the cpu backend failed to initialise.');
  greetCpuQuietly();
  return { name: 'cpu', flavour: 'cpu', version: tf.version_core, device: cpuModel(), threads: 1, skipped };
}
