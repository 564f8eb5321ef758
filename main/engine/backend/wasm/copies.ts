import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { alloc, ptr, type WasmBackendInternals } from './heap';
import type { SimdKernels } from './simd';
import { splitRows } from './split';

/**
 * Kernels that only move data, which a DenseNet step calls hundreds of times: Identity (the engine
 * clones every tensor it saves for the backward pass), Concat (every dense layer) and SplitV
 * (Concat's gradient), plus Relu.
 *
 * Stock wasm Identity copies the tensor, which doubles the memory of everything saved for the
 * backward pass; here it shares the data and bumps its reference count, as the cpu backend and wasm's
 * own Reshape do. Stock SplitV slices at ~0.3 GB/s; here any axis is a row-wise column copy.
 */
type Backend = WasmBackendInternals & { incRef(dataId: object): void };

export function identityKernel(): KernelConfig {
  return {
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as { x: TensorInfo };
      (backend as unknown as Backend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
}

export function reluKernel(simd: SimdKernels, stock: KernelFunc | undefined): KernelConfig {
  return {
    kernelName: 'Relu',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32' && stock) return stock(args);
      const backend = args.backend as unknown as WasmBackendInternals;
      const y = alloc(backend, x.shape);
      const n = tf.util.sizeFromShape(x.shape);
      const xp = ptr(backend, x);
      const yp = ptr(backend, y);
      // Split in blocks of 256 elements so each half starts 16-byte aligned.
      const blocks = Math.ceil(n / 256);
      splitRows(simd, 'relu', blocks, (b0, b1) => [xp + 1024 * b0, Math.min(n, 256 * b1) - 256 * b0, yp + 1024 * b0]);
      return y;
    },
  };
}

/** rows, columns and inner size for splitting or joining `shape` along `axis`. */
function geometry(shape: number[], axis: number): { rows: number; inner: number } {
  let rows = 1;
  for (let i = 0; i < axis; i++) rows *= shape[i];
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { rows, inner };
}

export function concatKernel(simd: SimdKernels, stock: KernelFunc): KernelConfig {
  return {
    kernelName: 'Concat',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const inputs = (Array.isArray(args.inputs) ? args.inputs : Object.values(args.inputs)) as TensorInfo[];
      const axisAttr = (args.attrs as { axis: number | number[] }).axis;
      if (inputs.length === 0 || inputs.some((t) => t.dtype !== 'float32')) return stock(args);
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
        if (cols > 0) splitRows(simd, 'copy_cols', rows, (r0, r1) => [tp + 4 * r0 * cols, r1 - r0, cols, 0, cols, op + 4 * r0 * outCols, outCols, offset]);
        offset += cols;
      }
      return out;
    },
  };
}

export function splitVKernel(simd: SimdKernels, stock: KernelFunc): KernelConfig {
  return {
    kernelName: 'SplitV',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32') return stock(args);
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
}
