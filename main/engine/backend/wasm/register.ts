import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { batchNormGradKernel, batchNormTrainKernel } from './batch-norm';
import { conv2dBackpropFilter, conv2dBackpropInput } from './conv-backprop';
import { concatKernel, identityKernel, reluKernel, splitVKernel } from './copies';
import { patchBatchNormalization } from './layer-patch';
import { avgPoolGradKernel, fusedBatchNormKernel } from './pooling';
import { registerReluGradient, reluGradKernel } from './relu-grad';
import type { SimdKernels } from './simd';

/** Kernel names this project registers for 'wasm' (stock ones are replaced). */
export const TRAINING_KERNELS = [
  'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DnwBatchNormTrain', 'DnwBatchNormGrad', 'DnwReluGrad', 'Relu', 'Identity', 'Concat', 'SplitV', 'AvgPoolGrad', 'FusedBatchNorm',
] as const;

// The stock kernels, kept for the cases ours hand back (non-float dtypes) and for re-registration.
const stock = new Map<string, KernelConfig>();
function stockKernel(name: string): KernelConfig['kernelFunc'] {
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
  const configs: KernelConfig[] = [
    conv2dBackpropFilter(simd),
    conv2dBackpropInput(simd),
    batchNormTrainKernel(simd),
    batchNormGradKernel(simd),
    reluGradKernel(simd),
    reluKernel(simd, stockKernel('Relu')),
    identityKernel(),
    concatKernel(simd, stockKernel('Concat')),
    splitVKernel(simd, stockKernel('SplitV')),
    avgPoolGradKernel(simd, stockKernel('AvgPoolGrad')),
    fusedBatchNormKernel(simd, stockKernel('FusedBatchNorm')),
  ];
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, 'wasm') != null) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registerReluGradient();
  patchBatchNormalization();
}
