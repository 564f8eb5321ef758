import { callKernel, type KernelExports } from './exports';
import type { SimdKernels } from './simd';

/**
 * Row-wise halving of a kernel call over the two threads of simd.pool. `args(r0, r1)` builds the
 * arguments for rows [r0, r1); small calls stay on this thread, where a hand-off would cost more
 * than it saves.
 */
export const MIN_SPLIT_ROWS = 1024;

export function splitRows<N extends keyof KernelExports>(simd: SimdKernels, name: N, rows: number, args: (r0: number, r1: number) => Parameters<KernelExports[N]>): void {
  if (simd.pool.threads < 2 || rows < MIN_SPLIT_ROWS) {
    callKernel(simd.k, name, args(0, rows));
    return;
  }
  const half = rows >> 1;
  simd.pool.split(name, args(half, rows), args(0, half));
}
