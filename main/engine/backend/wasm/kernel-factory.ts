import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import type { SimdKernels } from './simd';

/** tfjs-backend-wasm's own kernel for `name`, kept for the cases ours hand back (e.g. non-float dtypes). */
export type StockKernel = (name: string) => KernelFunc;

/**
 * One kernel of this project for the 'wasm' backend. A factory rather than a constant config (as
 * tfjs' own kernels are) because each kernel holds the heap its SIMD module was instantiated on.
 */
export type KernelFactory = (simd: SimdKernels, stock: StockKernel) => KernelConfig;
