import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { batchNormGradKernel, batchNormTrainKernel } from './batch-norm';
import { conv2dBackpropFilter, conv2dBackpropInput } from './conv-backprop';
import { patchBatchNormalization } from './layer-patch';
import { registerReluGradient, reluGradKernel } from './relu-grad';
import type { SimdKernels } from './simd';

/** Kernel names this project registers for 'wasm' (stock ones are replaced). */
export const TRAINING_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DnwBatchNormTrain', 'DnwBatchNormGrad', 'DnwReluGrad'] as const;

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
  ];
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, 'wasm') != null) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registerReluGradient();
  patchBatchNormalization();
}
