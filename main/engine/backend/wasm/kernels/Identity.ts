import type { TensorInfo } from '@tensorflow/tfjs';
import type { WasmBackendInternals } from '../heap';
import type { KernelFactory } from '../kernel-factory';

/**
 * Identity shares the data and bumps its reference count, as the cpu backend and wasm's own Reshape
 * do. Stock wasm Identity copies the tensor, and the engine clones every tensor it saves for the
 * backward pass, which doubled the memory of everything saved.
 */
type Backend = WasmBackendInternals & { incRef(dataId: object): void };

export const identity: KernelFactory = () => ({
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const { x } = inputs as { x: TensorInfo };
    (backend as unknown as Backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
});
