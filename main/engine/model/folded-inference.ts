import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { BN_RELU } from '../backend/wasm/kernels/batch_norm_util';

/**
 * Inference (evaluation) forward pass of a model built by ./densenet.ts with every batch norm that
 * directly follows a convolution folded into it, and every other BN fused with its ReLU: the
 * outputs of `model.apply(x, { training: false })` (within float32 rounding) in fewer passes.
 *
 * - The stem's conv1_conv → conv1_bn → conv1_relu and each bottleneck's _1_conv → _1_bn → _1_relu
 *   become one convolution with bias and ReLU (XNNPACK fuses both):
 *   W' = W · γ/√(σ²+ε) per output channel, b' = β − μ · γ/√(σ²+ε).
 * - A BN on a concatenation (each layer's _0_bn, the transitions' and the head's) cannot fold into
 *   the convolution after it (a ReLU sits between), so it runs as one BN-ReLU pass (wasm: this
 *   project's kernel; elsewhere tf.batchNorm and tf.relu).
 * Dropout is the identity at inference. The folded weights are computed when this is created, from
 * the weights then: create one per evaluation pass, and dispose it.
 *
 * Porting note: Keras and tfjs-layers run BN as its own layer at inference; folding it is what
 * inference runtimes (ONNX Runtime, TensorRT) do. The ONNX export folds the same pairs (--fold-bn).
 */
interface BnLayer {
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  epsilon: number;
}

interface Folded {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

export interface FoldedInference {
  logits(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** The parts of a config the inference pass needs. */
export type FoldedStructure = Pick<DenseNetConfig, 'stem' | 'blocks' | 'bottleneck'>;

/**
 * The structure of a model built by ./densenet.ts, read back from its Keras layer names, or null
 * for a model of another shape (which then runs through model.apply).
 */
export function structureOf(model: tf.LayersModel): FoldedStructure | null {
  const names = new Set(model.layers.map((l) => l.name));
  if (!names.has('conv1_conv') || !names.has('bn') || !names.has('predictions')) return null;
  const blocks: number[] = [];
  for (let b = 0; names.has(`conv${b + 2}_block1_0_bn`); b++) {
    let layers = 0;
    while (names.has(`conv${b + 2}_block${layers + 1}_2_conv`)) layers++;
    blocks.push(layers);
  }
  if (blocks.length === 0) return null;
  return { stem: names.has('conv1_bn') ? 'imagenet' : 'cifar', blocks, bottleneck: names.has('conv2_block1_1_conv') };
}

/** foldedInference for a model built by ./densenet.ts, or null for any other model. */
export function foldedInferenceFor(model: tf.LayersModel): FoldedInference | null {
  const structure = structureOf(model);
  return structure ? foldedInference(model, structure) : null;
}

export function foldedInference(model: tf.LayersModel, config: FoldedStructure): FoldedInference {
  const layer = <T>(name: string) => model.getLayer(name) as unknown as T;
  const kernel = (name: string) => layer<{ kernel: tf.LayerVariable }>(name).kernel.read() as tf.Tensor4D;
  const bn = (name: string) => layer<BnLayer>(name);
  const owned: tf.Tensor[] = [];
  const fold = (conv: string, norm: string): Folded =>
    tf.tidy(() => {
      const b = bn(norm);
      const scale = tf.div(b.gamma.read(), tf.sqrt(tf.add(b.movingVariance.read(), b.epsilon)));
      const filter = tf.mul(kernel(conv), scale) as tf.Tensor4D;
      const bias = tf.sub(b.beta.read(), tf.mul(b.movingMean.read(), scale)) as tf.Tensor1D;
      owned.push(filter, bias);
      return { filter: tf.keep(filter), bias: tf.keep(bias) };
    });
  const bnRelu = (x: tf.Tensor, name: string): tf.Tensor => {
    const b = bn(name);
    const [mean, variance, gamma, beta] = [b.movingMean.read(), b.movingVariance.read(), b.gamma.read(), b.beta.read()];
    if (tf.getKernel(BN_RELU, tf.getBackend()) != null) return tf.engine().runKernel(BN_RELU, { x, mean, variance, gamma, beta }, { epsilon: b.epsilon }) as tf.Tensor;
    return tf.tidy(() => tf.relu(tf.batchNorm(x, mean, variance, beta, gamma, b.epsilon)));
  };
  const stem = config.stem === 'imagenet' ? fold('conv1_conv', 'conv1_bn') : null;
  const bottlenecks = config.blocks.map((layers, b) =>
    Array.from({ length: layers }, (_, i) => (config.bottleneck ? fold(`conv${b + 2}_block${i + 1}_1_conv`, `conv${b + 2}_block${i + 1}_1_bn`) : null)));

  function logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor4D;
      if (stem) {
        const padded = tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]]);
        const c = tf.fused.conv2d({ x: padded, filter: stem.filter, bias: stem.bias, strides: 2, pad: 'valid', activation: 'relu' });
        h = tf.maxPool(tf.pad(c, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 2, 'valid');
      } else {
        h = tf.conv2d(x, kernel('conv1_conv'), 1, 'same');
      }
      config.blocks.forEach((layers, b) => {
        for (let i = 0; i < layers; i++) {
          const name = `conv${b + 2}_block${i + 1}`;
          const next = tf.tidy(() => {
            const r0 = bnRelu(h, `${name}_0_bn`) as tf.Tensor4D;
            const f = bottlenecks[b][i];
            const mid = f ? tf.fused.conv2d({ x: r0, filter: f.filter, bias: f.bias, strides: 1, pad: 'same', activation: 'relu' }) : r0;
            return tf.concat([h, tf.conv2d(mid, kernel(`${name}_2_conv`), 1, 'same')], 3) as tf.Tensor4D;
          });
          h.dispose();
          h = next;
        }
        if (b < config.blocks.length - 1) {
          const p = `pool${b + 2}`;
          const next = tf.tidy(() => tf.avgPool(tf.conv2d(bnRelu(h, `${p}_bn`) as tf.Tensor4D, kernel(`${p}_conv`), 1, 'same'), 2, 2, 'valid'));
          h.dispose();
          h = next;
        }
      });
      const pooled = tf.mean(bnRelu(h, 'bn'), [1, 2]) as tf.Tensor2D;
      const dense = layer<{ kernel: tf.LayerVariable; bias: tf.LayerVariable }>('predictions');
      return tf.add(tf.matMul(pooled, dense.kernel.read() as tf.Tensor2D), dense.bias.read()) as tf.Tensor2D;
    });
  }

  return {
    logits,
    dispose: () => tf.dispose(owned),
  };
}
