/**
 * What `initBackend` chose and why: the record every host prints (CLI, trainer `ready` event, bench)
 * and stores in a run's config.json, so a figure can always be traced to the engine that made it.
 */
export type ActiveBackend = 'tensorflow' | 'wasm' | 'cpu';

export interface SkippedBackend {
  /** e.g. 'tfjs-node-gpu', 'tfjs-node', 'wasm' */
  backend: string;
  /** One line, e.g. "not installed" or the loader's own message ("libcudart.so.11.0 not found"). */
  reason: string;
}

export interface BackendReport {
  name: ActiveBackend;
  /** 'tfjs-node-gpu', 'tfjs-node', 'wasm+training-kernels' or 'cpu'. */
  flavour: string;
  /** Version of the package that runs the kernels. */
  version: string;
  /** GPU name under CUDA, CPU model otherwise. */
  device: string;
  /** Threads the backend computes with (XNNPACK's pool for wasm, 1 for cpu). */
  threads: number;
  /** wasm only: whether the SIMD binary runs. */
  simd?: boolean;
  /** wasm only: which build of this project's training kernels runs (relaxed SIMD has fused multiply-add). */
  kernels?: 'relaxed-simd' | 'simd';
  /** wasm only: the most its heap can hold (wasm32: 4 GiB). */
  heapLimitBytes?: number;
  /** wasm only: the heap's size after start-up, before any model (not available to a training step). */
  heapBaseBytes?: number;
  skipped: SkippedBackend[];
}

export function formatBackendReport(report: BackendReport): string {
  const simd = report.simd === undefined ? '' : report.simd ? ', SIMD' : ', no SIMD';
  const kernels = report.kernels ? `, ${report.kernels === 'relaxed-simd' ? 'relaxed-SIMD' : 'plain-SIMD'} training kernels` : '';
  const threads = `${report.threads} thread${report.threads === 1 ? '' : 's'}`;
  const lines = [`backend: ${report.name} (${report.flavour} ${report.version}) on ${report.device}, ${threads}${simd}${kernels}`];
  for (const s of report.skipped) lines.push(`  skipped ${s.backend}: ${s.reason}`);
  return lines.join('\n');
}
