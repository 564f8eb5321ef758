import type { TensorInfo } from '@tensorflow/tfjs';

/**
 * The few internals of tfjs-backend-wasm's BackendWasm (4.22) that composed kernels need: where a
 * tensor lives in the heap, and how to make, alias and free tensors there. Composed kernels call
 * other wasm kernels' kernelFuncs directly and free every intermediate with `disposeData`; they never
 * call tf.* ops, whose engine-tracked tensors would share dataIds and break reference counts.
 */
export interface WasmBackendInternals {
  wasm: {
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    tfjs: { disposeData(id: number): void };
  };
  dataIdMap: {
    get(dataId: object): { id: number; memoryOffset: number; shape: number[]; dtype: string };
    delete(dataId: object): void;
  };
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function ptr(backend: WasmBackendInternals, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

export function alloc(backend: WasmBackendInternals, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

export function free(backend: WasmBackendInternals, ...tensors: TensorInfo[]): void {
  for (const t of tensors) backend.disposeData(t.dataId);
}

/**
 * A second tensor id on the same memory, seen with another shape. XNNPACK operators that tfjs caches
 * per filter id (and their packed weights) are deleted when that id is disposed, so giving a big
 * activation a short-lived id as a filter keeps its packed copy from living until the activation dies.
 */
export function alias(backend: WasmBackendInternals, t: TensorInfo, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32', ptr(backend, t));
}

/** Forgets an alias without freeing the memory it shares (`disposeData` would free it). */
export function releaseAlias(backend: WasmBackendInternals, a: TensorInfo): void {
  const { id } = backend.dataIdMap.get(a.dataId);
  backend.wasm.tfjs.disposeData(id);
  backend.dataIdMap.delete(a.dataId);
}

/** Scratch bytes on the heap, for per-channel temporaries; 16-byte aligned by emscripten's malloc. */
export function withScratch<T>(backend: WasmBackendInternals, bytes: number, fn: (p: number) => T): T {
  const p = backend.wasm._malloc(bytes) >>> 0;
  try {
    return fn(p);
  } finally {
    backend.wasm._free(p);
  }
}
