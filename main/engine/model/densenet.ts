/**
 * DenseNetConfig -> tf.LayersModel with the tfjs-layers functional API.
 *
 * Follows the paper (Huang et al., "Densely Connected Convolutional Networks", §3) and names every
 * layer as Keras applications do (`keras/src/applications/densenet.py`), so weights map one-to-one
 * to Keras and, through ./torchvision.ts, to torchvision's state dict. The names are public API:
 * checkpoints, inspectors and exporters key on them, and test/unit/engine/model/densenet.test.ts pins them.
 *
 * Layout (b = dense block 1..n, named conv{b+1}; i = layer in the block, 1-based):
 *   stem      imagenet: conv1_pad, conv1_conv (7×7/2), conv1_bn, conv1_relu, pool1_pad, pool1 (3×3/2 max)
 *             cifar:    conv1_conv (3×3, same)
 *   layer     conv{b+1}_block{i}_0_bn, _0_relu, [_1_conv (1×1, 4k), _1_bn, _1_relu,] _2_conv (3×3, k),
 *             _concat   (with dropout `_1_drop` / `_2_drop` after each conv when dropRate > 0)
 *   transition pool{b+1}_bn, _relu, _conv (1×1, ⌊θm⌋), [_drop,] _pool (2×2/2 average)
 *   head      bn, relu, avg_pool (global), predictions (dense, linear: logits)
 *
 * Porting note: Keras 2 named the stem `conv1/conv`, `conv1/bn`; Keras 3 and this builder use
 * `conv1_conv`, `conv1_bn`, because a `/` in a layer name collides with the `layer/weight`
 * separator of TF.js weight names.
 */
import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { assertValidConfig } from '../../../shared/validation';
import { transitionChannels } from '../../../shared/architecture/shapes';

type SymbolicTensor = tf.SymbolicTensor;

/**
 * Porting note: Keras uses epsilon 1.001e-5 and torchvision 1e-5. We keep Keras' value, so
 * imported torchvision weights give outputs equal to PyTorch's up to ~1e-6 relative.
 */
export const BN_EPSILON = 1.001e-5;
/**
 * Porting note: TF.js/Keras momentum 0.9 is torchvision's momentum 0.1 (the moving statistics keep
 * 90% of their old value each step). Keras applications use 0.99; we follow torchvision, whose
 * statistics settle within the few hundred steps a short workbench run has.
 */
export const BN_MOMENTUM = 0.9;

/**
 * Porting note: torchvision initialises convs with kaiming_normal_ (He, fan-in, std √(2/fan_in));
 * TF.js' `heNormal` is the same up to truncation at 2σ. Keras applications default to Glorot.
 */
const CONV_INIT = 'heNormal';

function bnReluConv(
  x: SymbolicTensor,
  prefix: string,
  filters: number,
  kernelSize: number,
  dropRate: number,
): SymbolicTensor {
  let y = tf.layers.batchNormalization({ axis: -1, epsilon: BN_EPSILON, momentum: BN_MOMENTUM, name: `${prefix}_bn` }).apply(x) as SymbolicTensor;
  y = tf.layers.activation({ activation: 'relu', name: `${prefix}_relu` }).apply(y) as SymbolicTensor;
  return conv(y, prefix, filters, kernelSize, dropRate);
}

function conv(x: SymbolicTensor, prefix: string, filters: number, kernelSize: number, dropRate: number): SymbolicTensor {
  let y = tf.layers
    .conv2d({ filters, kernelSize, padding: 'same', useBias: false, kernelInitializer: CONV_INIT, name: `${prefix}_conv` })
    .apply(x) as SymbolicTensor;
  // Paper §4.2: "we add a dropout layer after each convolutional layer (except the first one)".
  if (dropRate > 0) y = tf.layers.dropout({ rate: dropRate, name: `${prefix}_drop` }).apply(y) as SymbolicTensor;
  return y;
}

/**
 * One dense layer H_ℓ (paper §3, Eq. 2): BN-ReLU-[1×1 conv to 4k, BN-ReLU]-3×3 conv to k, its k new
 * feature maps concatenated onto its input. Without a bottleneck the 3×3 conv is the only conv and
 * keeps the name `_2_conv`, so `_2_conv` is always the layer's k-channel output.
 *
 * @param x the concatenation of all earlier feature maps of the block.
 * @param name e.g. `conv2_block1`.
 * @returns x with k more channels.
 */
function convBlock(x: SymbolicTensor, config: DenseNetConfig, name: string): SymbolicTensor {
  const k = config.growthRate;
  let y = tf.layers.batchNormalization({ axis: -1, epsilon: BN_EPSILON, momentum: BN_MOMENTUM, name: `${name}_0_bn` }).apply(x) as SymbolicTensor;
  y = tf.layers.activation({ activation: 'relu', name: `${name}_0_relu` }).apply(y) as SymbolicTensor;
  if (config.bottleneck) {
    // Paper §3, "Bottleneck layers": each 1×1 conv produces 4k feature maps.
    y = conv(y, `${name}_1`, 4 * k, 1, config.dropRate);
    y = tf.layers.batchNormalization({ axis: -1, epsilon: BN_EPSILON, momentum: BN_MOMENTUM, name: `${name}_1_bn` }).apply(y) as SymbolicTensor;
    y = tf.layers.activation({ activation: 'relu', name: `${name}_1_relu` }).apply(y) as SymbolicTensor;
  }
  y = conv(y, `${name}_2`, k, 3, config.dropRate);
  return tf.layers.concatenate({ axis: -1, name: `${name}_concat` }).apply([x, y]) as SymbolicTensor;
}

/**
 * A dense block of `layers` dense layers (paper §3, "Dense connectivity").
 * @param name `conv{b+1}` for block b.
 */
function denseBlock(x: SymbolicTensor, config: DenseNetConfig, layers: number, name: string): SymbolicTensor {
  for (let i = 1; i <= layers; i++) x = convBlock(x, config, `${name}_block${i}`);
  return x;
}

/**
 * Transition (paper §3, "Transition layers"): BN-ReLU-1×1 conv to ⌊θm⌋ channels, 2×2 average pool.
 * @param name `pool{b+1}` after block b.
 */
function transitionBlock(x: SymbolicTensor, config: DenseNetConfig, name: string): SymbolicTensor {
  const m = x.shape[x.shape.length - 1] as number;
  const y = bnReluConv(x, name, transitionChannels(m, config.compression), 1, config.dropRate);
  return tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }).apply(y) as SymbolicTensor;
}

function stem(input: SymbolicTensor, config: DenseNetConfig): SymbolicTensor {
  if (config.stem === 'cifar') {
    // Paper §3, "Implementation Details": one 3×3 conv with 16 (or 2k for DenseNet-BC) maps; the
    // first dense layer's BN-ReLU follows it directly, so the stem has no BN of its own.
    return tf.layers
      .conv2d({ filters: config.initFeatures, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: CONV_INIT, name: 'conv1_conv' })
      .apply(input) as SymbolicTensor;
  }
  // Paper Table 1: 7×7 conv, stride 2; 3×3 max pool, stride 2 (padded as Keras/torchvision do).
  let x = tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }).apply(input) as SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: config.initFeatures, kernelSize: 7, strides: 2, useBias: false, kernelInitializer: CONV_INIT, name: 'conv1_conv' })
    .apply(x) as SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: -1, epsilon: BN_EPSILON, momentum: BN_MOMENTUM, name: 'conv1_bn' }).apply(x) as SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'conv1_relu' }).apply(x) as SymbolicTensor;
  x = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }).apply(x) as SymbolicTensor;
  return tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }).apply(x) as SymbolicTensor;
}

/**
 * Builds the model. Validates the config first and throws a user WorkbenchError listing every
 * problem. The output is logits from the `predictions` layer.
 *
 * Porting note: Keras applications end in `Dense(classes, activation="softmax")`. Ours is linear
 * (logits, as torchvision's `classifier`), and softmax is applied by the loss
 * (`tf.losses.softmaxCrossEntropy`) or by whoever wants probabilities; this is numerically
 * stabler and what the trainer, the ONNX export and torchvision comparison want.
 */
export function buildDenseNet(config: DenseNetConfig): tf.LayersModel {
  const valid = assertValidConfig(config);
  const input = tf.input({ shape: valid.inputShape, name: 'input_1' });
  let x = stem(input, valid);
  valid.blocks.forEach((layers, b) => {
    x = denseBlock(x, valid, layers, `conv${b + 2}`);
    if (b < valid.blocks.length - 1) x = transitionBlock(x, valid, `pool${b + 2}`);
  });
  x = tf.layers.batchNormalization({ axis: -1, epsilon: BN_EPSILON, momentum: BN_MOMENTUM, name: 'bn' }).apply(x) as SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'relu' }).apply(x) as SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as SymbolicTensor;
  const logits = tf.layers
    .dense({ units: valid.classes, activation: 'linear', kernelInitializer: 'glorotUniform', biasInitializer: 'zeros', name: 'predictions' })
    .apply(x) as SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: valid.variant.replace(/[^A-Za-z0-9_.-]/g, '_') || 'densenet' });
}
