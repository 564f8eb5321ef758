import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, withScratch, type WasmBackendInternals } from './heap';
import type { KernelExports, SimdKernels } from './simd';
import { splitRows } from './split';

/**
 * Training-mode batch normalisation (Ioffe & Szegedy 2015, Algorithm 1 and its backward pass) as two
 * fused wasm kernels over channels-last data.
 *
 * tf.layers' BatchNormalization trains through tf.moments (mean, sub, square, mean) and the generic
 * FusedBatchNorm gradient, which broadcasts with Tile: about twenty full-tensor passes per layer
 * and step, the largest cost after convolutions in a DenseNet (MEASUREMENTS.md: Tile alone 1.9 s of
 * a 6.7 s step). Here the forward pass reads x three times and writes y once, and the backward pass
 * reads dy and x twice and writes dx once.
 *
 * Backward, with m rows, xhat = (x - mean) * r, r = 1/sqrt(var + eps):
 *   dbeta  = sum(dy)                  dgamma = sum(dy * xhat) = r * sum(dy * (x - mean))
 *   dx     = gamma * r / m * (m * dy - dbeta - xhat * dgamma)
 * folded into dx = a*dy + b*x + k per channel.
 */
export const BN_TRAIN = 'DnwBatchNormTrain';
export const BN_GRAD = 'DnwBatchNormGrad';

function rows(shape: number[]): { P: number; C: number } {
  const C = shape[shape.length - 1];
  return { P: C === 0 ? 0 : shape.reduce((a, b) => a * b, 1) / C, C };
}

/**
 * Sums rows [0, P) with a row-split reduction kernel (col_sum, col_sqdev, col_grad_sums), each thread
 * into its own float64 totals, and returns the totals added together (`width` C-vectors).
 */
function reduceRows<N extends 'col_sum' | 'col_sqdev' | 'col_grad_sums'>(
  simd: SimdKernels, backend: WasmBackendInternals, name: N, P: number, C: number, width: number,
  args: (r0: number, r1: number, tmp: number, acc: number) => Parameters<KernelExports[N]>,
): Float64Array {
  // Per thread: width*C doubles of totals and width*C floats of block sums.
  return withScratch(backend, 2 * width * C * 12 + 16, (s) => {
    const base = Math.ceil(s / 8) * 8;
    const acc = [base, base + 8 * width * C];
    const tmp = [base + 16 * width * C, base + 20 * width * C];
    simd.f64(base, 2 * width * C).fill(0);
    if (simd.pool.threads < 2 || P < 1024) (simd.k[name] as (...a: number[]) => void)(...(args(0, P, tmp[0], acc[0]) as number[]));
    else simd.pool.split(name, args(P >> 1, P, tmp[1], acc[1]), args(0, P >> 1, tmp[0], acc[0]));
    const a = simd.f64(acc[0], width * C);
    const b = simd.f64(acc[1], width * C);
    return Float64Array.from(a, (v, i) => v + b[i]);
  });
}

export function batchNormTrainKernel(simd: SimdKernels): KernelConfig {
  return {
    kernelName: BN_TRAIN,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const backend = b as unknown as WasmBackendInternals;
      const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
      const eps = (attrs as { epsilon: number }).epsilon;
      const { P, C } = rows(x.shape);
      const y = alloc(backend, x.shape);
      const mean = alloc(backend, [C]);
      const variance = alloc(backend, [C]);
      // Scale and shift (C floats each) after the mean and variance.
      const coef = alloc(backend, [2 * C]);
      const xp = ptr(backend, x);
      const sums = reduceRows(simd, backend, 'col_sum', P, C, 1, (r0, r1, tmp, acc) => [xp + 4 * r0 * C, r1 - r0, C, tmp, acc]);
      const m = simd.f32(ptr(backend, mean), C);
      for (let c = 0; c < C; ++c) m[c] = sums[c] / P;
      const mp = ptr(backend, mean);
      const sq = reduceRows(simd, backend, 'col_sqdev', P, C, 1, (r0, r1, tmp, acc) => [xp + 4 * r0 * C, r1 - r0, C, mp, tmp, acc]);
      const v = simd.f32(ptr(backend, variance), C);
      const g = simd.f32(ptr(backend, gamma), C);
      const bt = simd.f32(ptr(backend, beta), C);
      const cf = simd.f32(ptr(backend, coef), 2 * C);
      for (let c = 0; c < C; ++c) {
        v[c] = sq[c] / P;
        cf[c] = g[c] / Math.sqrt(v[c] + eps);
        cf[C + c] = bt[c] - m[c] * cf[c];
      }
      const cp = ptr(backend, coef);
      const yp = ptr(backend, y);
      splitRows(simd, 'channel_affine', P, (r0, r1) => [xp + 4 * r0 * C, r1 - r0, C, cp, cp + 4 * C, yp + 4 * r0 * C]);
      backend.disposeData(coef.dataId);
      return [y, mean, variance];
    },
  };
}

export function batchNormGradKernel(simd: SimdKernels): KernelConfig {
  return {
    kernelName: BN_GRAD,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const backend = b as unknown as WasmBackendInternals;
      const { dy, x, mean, variance, gamma } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'gamma', TensorInfo>;
      const eps = (attrs as { epsilon: number }).epsilon;
      const { P, C } = rows(x.shape);
      const dx = alloc(backend, x.shape);
      const dgamma = alloc(backend, [C]);
      const dbeta = alloc(backend, [C]);
      const coef = alloc(backend, [3 * C]);
      const dyp = ptr(backend, dy);
      const xp = ptr(backend, x);
      const mp = ptr(backend, mean);
      const sums = reduceRows(simd, backend, 'col_grad_sums', P, C, 2, (r0, r1, tmp, acc) => [dyp + 4 * r0 * C, xp + 4 * r0 * C, r1 - r0, C, mp, tmp, acc]);
      const m = simd.f32(mp, C);
      const v = simd.f32(ptr(backend, variance), C);
      const g = simd.f32(ptr(backend, gamma), C);
      const dg = simd.f32(ptr(backend, dgamma), C);
      const db = simd.f32(ptr(backend, dbeta), C);
      const cf = simd.f32(ptr(backend, coef), 3 * C);
      for (let c = 0; c < C; ++c) {
        const r = 1 / Math.sqrt(v[c] + eps);
        db[c] = sums[c];
        dg[c] = r * sums[C + c];
        const gr = g[c] * r;
        const B = (-gr * r * dg[c]) / P;
        cf[c] = gr;
        cf[C + c] = B;
        cf[2 * C + c] = (-gr * db[c]) / P - B * m[c];
      }
      const cp = ptr(backend, coef);
      const dxp = ptr(backend, dx);
      splitRows(simd, 'bn_grad_dx', P, (r0, r1) => [dyp + 4 * r0 * C, xp + 4 * r0 * C, r1 - r0, C, cp, cp + 4 * C, cp + 8 * C, dxp + 4 * r0 * C]);
      backend.disposeData(coef.dataId);
      return [dx, dgamma, dbeta];
    },
  };
}

/**
 * y = gamma * (x - mean(x)) / sqrt(var(x) + eps) + beta over all axes but the last, plus the batch
 * mean and (biased) variance for the moving averages. Differentiable in x, gamma and beta; mean and
 * variance are returned kept (outside any tidy) and the caller disposes them.
 * Needs the fused kernels on the active backend (wasm with this project's training kernels).
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  let mean: tf.Tensor | undefined;
  let variance: tf.Tensor | undefined;
  const op = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, m, v] = tf.engine().runKernel(BN_TRAIN, { x: xi, gamma: g, beta: bt }, { epsilon }) as tf.Tensor[];
    save([xi, g, m, v]);
    mean = tf.keep(m);
    variance = tf.keep(v);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sv] = saved;
        const [dx, dgamma, dbeta] = tf.engine().runKernel(BN_GRAD, { dy, x: sx, mean: sm, variance: sv, gamma: sg }, { epsilon }) as tf.Tensor[];
        return [dx, dgamma, dbeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = op(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}
