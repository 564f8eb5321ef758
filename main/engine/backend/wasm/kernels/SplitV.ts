import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { splitRows } from '../split';
import { geometry } from './copy_util';

/** SplitV (Concat's gradient) along any axis as row-wise column copies; stock SplitV slices at ~0.3 GB/s. */
export const splitV: KernelFactory = (simd, stock) => {
  const fallback = stock('SplitV');
  return {
    kernelName: 'SplitV',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32') return fallback(args);
      const { numOrSizeSplits, axis: axisAttr } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
      const axis = tf.util.parseAxisParam(axisAttr, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, axis);
      const backend = args.backend as unknown as WasmBackendInternals;
      const { rows, inner } = geometry(x.shape, axis);
      const cols = x.shape[axis] * inner;
      let offset = 0;
      return sizes.map((s) => {
        const shape = x.shape.slice();
        shape[axis] = s;
        const out = alloc(backend, shape);
        const xp = ptr(backend, x);
        const op = ptr(backend, out);
        const off = offset;
        if (s > 0 && rows > 0) splitRows(simd, 'copy_cols', rows, (r0, r1) => [xp + 4 * r0 * cols, r1 - r0, cols, off, s * inner, op + 4 * r0 * s * inner, s * inner, 0]);
        offset += s * inner;
        return out;
      });
    },
  };
};
