import * as tf from '@tensorflow/tfjs';

/**
 * Routes tf.layers' Conv2D without bias or activation (every convolution of a DenseNet) to the
 * plain tf.conv2d op.
 *
 * Porting note: tfjs-layers runs every Conv2D through tf.fused.conv2d, whose gradient is one
 * customGrad that computes the input gradient and the filter gradient together, even where the
 * input needs none. For the ImageNet stem that input is the zero-padded image: at 224x224 and batch
 * 32 its gradient is a 7x7 convolution of the stride-dilated output gradient down to 3 channels,
 * about 32 GFLOP a step (four times the stem's own forward pass), thrown away. tf.conv2d's gradient
 * has one function per input, and the engine calls only those on the path to the weights. Same
 * kernels, same values; the layer keeps its config and weights.
 */
interface ConvLayer {
  rank: number;
  bias: tf.LayerVariable | null;
  kernel: tf.LayerVariable;
  activation: { getClassName(): string };
  dataFormat: string;
  strides: number[];
  padding: string;
  dilationRate: number | number[];
}

type CallFn = (this: ConvLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

let original: CallFn | null = null;

function conv2dPrototype(): { call: CallFn } {
  return Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })) as { call: CallFn };
}

export function patchConv2DLayer(): void {
  if (original) return;
  const proto = conv2dPrototype();
  const stock = proto.call;
  original = stock;
  proto.call = function (this: ConvLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const plain = this.rank === 2 && this.bias == null && this.activation.getClassName() === 'linear' && this.dataFormat === 'channelsLast' &&
      (this.padding === 'same' || this.padding === 'valid') && x.rank === 4;
    if (!plain) return stock.call(this, inputs, kwargs);
    const dilations = (typeof this.dilationRate === 'number' ? [this.dilationRate, this.dilationRate] : this.dilationRate) as [number, number];
    return tf.tidy(() => tf.conv2d(x as tf.Tensor4D, this.kernel.read() as tf.Tensor4D, this.strides as [number, number], this.padding as 'same' | 'valid', 'NHWC', dilations));
  };
}

/** Puts tfjs-layers' own Conv2D.call back (tests compare against it). */
export function unpatchConv2DLayer(): void {
  if (!original) return;
  conv2dPrototype().call = original;
  original = null;
}
