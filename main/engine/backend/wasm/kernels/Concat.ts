import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, type WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';
import { splitRows } from '../split';
import { geometry } from './copy_util';

/** Concat of float32 tensors along any axis as row-wise column copies over two threads (every dense layer calls it). */
export const concat: KernelFactory = (simd, stock) => {
  const fallback = stock('Concat');
  return {
    kernelName: 'Concat',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const inputs = (Array.isArray(args.inputs) ? args.inputs : Object.values(args.inputs)) as TensorInfo[];
      const axisAttr = (args.attrs as { axis: number | number[] }).axis;
      if (inputs.length === 0 || inputs.some((t) => t.dtype !== 'float32')) return fallback(args);
      const axis = tf.util.parseAxisParam(axisAttr, inputs[0].shape)[0];
      const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
      const backend = args.backend as unknown as WasmBackendInternals;
      const out = alloc(backend, outShape);
      const { rows, inner } = geometry(outShape, axis);
      const outCols = outShape[axis] * inner;
      let offset = 0;
      for (const t of inputs) {
        const cols = t.shape[axis] * inner;
        const tp = ptr(backend, t);
        const op = ptr(backend, out);
        const off = offset;
        if (cols > 0) splitRows(simd, 'copy_cols', rows, (r0, r1) => [tp + 4 * r0 * cols, r1 - r0, cols, 0, cols, op + 4 * r0 * outCols, outCols, off]);
        offset += cols;
      }
      return out;
    },
  };
};
