import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, withScratch, type WasmBackendInternals } from './heap';
import type { SimdKernels } from './simd';

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
      // scratch: C floats of block sums, C doubles of totals, then scale and shift (C floats each).
      withScratch(backend, 8 * C + 4 * C + 8 * C + 16, (s) => {
        const acc = Math.ceil(s / 8) * 8;
        const tmp = acc + 8 * C;
        const scale = tmp + 4 * C;
        const shift = scale + 4 * C;
        simd.k.bn_stats(ptr(backend, x), P, C, ptr(backend, mean), ptr(backend, variance), tmp, acc);
        const m = simd.f32(ptr(backend, mean), C);
        const v = simd.f32(ptr(backend, variance), C);
        const g = simd.f32(ptr(backend, gamma), C);
        const bt = simd.f32(ptr(backend, beta), C);
        const sc = simd.f32(scale, C);
        const sh = simd.f32(shift, C);
        for (let c = 0; c < C; ++c) {
          sc[c] = g[c] / Math.sqrt(v[c] + eps);
          sh[c] = bt[c] - m[c] * sc[c];
        }
        simd.k.channel_affine(ptr(backend, x), P, C, scale, shift, ptr(backend, y));
      });
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
      // scratch: 2C doubles of totals, 2C floats of block sums, then sum(dy*(x-mean)), a, b, k (C floats each).
      withScratch(backend, 16 * C + 8 * C + 16 * C + 16, (s) => {
        const acc = Math.ceil(s / 8) * 8;
        const tmp = acc + 16 * C;
        const sumDyXc = tmp + 8 * C;
        const av = sumDyXc + 4 * C;
        const bv = av + 4 * C;
        const kv = bv + 4 * C;
        // dbeta receives sum(dy) directly.
        simd.k.bn_grad_reduce(ptr(backend, dy), ptr(backend, x), P, C, ptr(backend, mean), ptr(backend, dbeta), sumDyXc, tmp, acc);
        const m = simd.f32(ptr(backend, mean), C);
        const v = simd.f32(ptr(backend, variance), C);
        const g = simd.f32(ptr(backend, gamma), C);
        const sdy = simd.f32(ptr(backend, dbeta), C);
        const sdx = simd.f32(sumDyXc, C);
        const dg = simd.f32(ptr(backend, dgamma), C);
        const A = simd.f32(av, C);
        const B = simd.f32(bv, C);
        const K = simd.f32(kv, C);
        for (let c = 0; c < C; ++c) {
          const r = 1 / Math.sqrt(v[c] + eps);
          dg[c] = r * sdx[c];
          const gr = g[c] * r;
          A[c] = gr;
          B[c] = (-gr * r * dg[c]) / P;
          K[c] = (-gr * sdy[c]) / P - B[c] * m[c];
        }
        simd.k.bn_grad_dx(ptr(backend, dy), ptr(backend, x), P, C, av, bv, kv, ptr(backend, dx));
      });
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
