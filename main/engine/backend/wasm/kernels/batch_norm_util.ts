import type { KernelExports } from '../exports';
import { withScratch, type WasmBackendInternals } from '../heap';
import type { SimdKernels } from '../simd';
import { MIN_SPLIT_ROWS } from '../split';

/** Kernel names of the fused training batch norm (this project's own, so they cannot clash with tfjs'). */
export const BN_TRAIN = 'DnwBatchNormTrain';
export const BN_GRAD = 'DnwBatchNormGrad';
/** Inference-mode BN (given statistics) followed by a ReLU, in one pass. */
export const BN_RELU = 'DnwBatchNormRelu';

/**
 * Attributes of the fused kernels: `relu` fuses the ReLU that follows the BN (its gradient too).
 * `channels` (with `relu`) normalises only the first `channels` channels of x, whose last axis is
 * then the row stride: a dense block's input read in place from its shared feature buffer.
 */
export interface BnAttrs {
  epsilon: number;
  relu?: boolean;
  channels?: number;
}

/** Rows, channels and row stride of x under `attrs` (see BnAttrs.channels). */
export function bnGeometry(shape: number[], attrs: BnAttrs, kernel: string): { P: number; C: number; S: number } {
  const { P, C: S } = rows(shape);
  if (attrs.channels === undefined) return { P, C: S, S };
  if (!attrs.relu) throw new Error(`${kernel} reads a channel prefix only with relu.`);
  if (!Number.isInteger(attrs.channels) || attrs.channels < 1 || attrs.channels > S) throw new Error(`${kernel}: channels must be in 1..${S}; got ${attrs.channels}.`);
  return { P, C: attrs.channels, S };
}

/** Rows and channels of a channels-last tensor. */
export function rows(shape: number[]): { P: number; C: number } {
  const C = shape[shape.length - 1];
  return { P: C === 0 ? 0 : shape.reduce((a, b) => a * b, 1) / C, C };
}

/**
 * Sums rows [0, P) with a row-split reduction kernel (col_sum, col_sqdev, col_grad_sums), each thread
 * into its own float64 totals, and returns the totals added together (`width` C-vectors).
 */
export function reduceRows<N extends 'col_sum' | 'col_sqdev' | 'col_grad_sums' | 'col_grad_sums_relu'>(
  simd: SimdKernels, backend: WasmBackendInternals, name: N, P: number, C: number, width: number,
  args: (r0: number, r1: number, tmp: number, acc: number) => Parameters<KernelExports[N]>,
): Float64Array {
  // Per thread: width*C doubles of totals and width*C floats of block sums.
  return withScratch(backend, 2 * width * C * 12 + 16, (s) => {
    const base = Math.ceil(s / 8) * 8;
    const acc = [base, base + 8 * width * C];
    const tmp = [base + 16 * width * C, base + 20 * width * C];
    simd.f64(base, 2 * width * C).fill(0);
    if (simd.pool.threads < 2 || P < MIN_SPLIT_ROWS) (simd.k[name] as (...a: number[]) => void)(...(args(0, P, tmp[0], acc[0]) as number[]));
    else simd.pool.split(name, args(P >> 1, P, tmp[1], acc[1]), args(0, P >> 1, tmp[0], acc[0]));
    const a = simd.f64(acc[0], width * C);
    const b = simd.f64(acc[1], width * C);
    return Float64Array.from(a, (v, i) => v + b[i]);
  });
}
