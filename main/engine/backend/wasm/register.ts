import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import type { KernelFactory } from './kernel-factory';
import { avgPoolGrad } from './kernels/AvgPoolGrad';
import { concat } from './kernels/Concat';
import { conv2DBackpropFilter } from './kernels/Conv2DBackpropFilter';
import { conv2DBackpropInput } from './kernels/Conv2DBackpropInput';
import { dnwBatchNormGrad } from './kernels/DnwBatchNormGrad';
import { dnwBatchNormRelu } from './kernels/DnwBatchNormRelu';
import { dnwBatchNormTrain } from './kernels/DnwBatchNormTrain';
import { dnwReluGrad } from './kernels/DnwReluGrad';
import { fusedBatchNorm } from './kernels/FusedBatchNorm';
import { identity } from './kernels/Identity';
import { maxPoolGrad } from './kernels/MaxPoolGrad';
import { relu } from './kernels/Relu';
import { slice } from './kernels/Slice';
import { splitV } from './kernels/SplitV';
import { patchBatchNormalization } from './layer-patch';
import { registerReluGradient } from './relu-gradient';
import type { SimdKernels } from './simd';

/**
 * Every kernel this project registers for 'wasm', one file each under kernels/ (as tfjs'
 * register_all_kernels.ts lists its own). Stock kernels of the same name are replaced.
 */
const KERNELS: KernelFactory[] = [
  avgPoolGrad,
  concat,
  conv2DBackpropFilter,
  conv2DBackpropInput,
  dnwBatchNormGrad,
  dnwBatchNormRelu,
  dnwBatchNormTrain,
  dnwReluGrad,
  fusedBatchNorm,
  identity,
  maxPoolGrad,
  relu,
  slice,
  splitV,
];

// The stock kernels, kept for the cases ours hand back (non-float dtypes) and for re-registration.
const stock = new Map<string, KernelConfig>();
function stockKernel(name: string): KernelFunc {
  if (!stock.has(name)) {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`The wasm backend has no ${name} kernel to fall back on.`);
    stock.set(name, k);
  }
  return stock.get(name)!.kernelFunc;
}

/**
 * Registers the training kernels on the wasm backend, replacing any earlier registration (stock or
 * ours: the kernels hold the heap they were instantiated on, which changes if the backend is
 * re-created). Also installs the ReLU gradient and the BatchNormalization routing, both of which
 * fall back to stock behaviour on backends without these kernels.
 */
export function registerTrainingKernels(simd: SimdKernels): void {
  for (const make of KERNELS) {
    const config = make(simd, stockKernel);
    if (tf.getKernel(config.kernelName, 'wasm') != null) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registerReluGradient();
  patchBatchNormalization();
}
