import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { WasmBackendInternals } from '../heap';

/** What both convolution gradients share: their attributes and the forward conv they build on. */
export type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
};

export function checkFormat(name: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat != null && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${name} on wasm supports dataFormat 'NHWC' only; got '${attrs.dataFormat}'.`);
  }
}

function forwardConv(): KernelFunc {
  const k = tf.getKernel('Conv2D', 'wasm');
  if (!k) throw new Error('The wasm backend has no Conv2D kernel; the training kernels build on it.');
  return k.kernelFunc;
}

/** XNNPACK's threaded stride-1 convolution with explicit padding. */
export function conv(backend: WasmBackendInternals, x: TensorInfo, filter: TensorInfo, pad: tf.backend_util.ExplicitPadding, dilation: number): TensorInfo {
  return forwardConv()({
    inputs: { x, filter },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { strides: [1, 1], pad, dilations: [dilation, dilation], dataFormat: 'NHWC' },
  }) as TensorInfo;
}
