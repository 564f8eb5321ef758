import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../../shared/config';
import { memoryEfficientDenseBlock } from './dense-block';
import type { BatchNormParams, DenseLayerParams } from './types';

/**
 * The training-mode forward pass of a model built by ../densenet.ts, with every dense block run as
 * the memory-efficient block op (./dense-block.ts). Same layers, same weights (read from the
 * model's own layers by their Keras names), same batch statistics and moving-average updates, and,
 * under the run's seeded Math.random, the same dropout masks: it computes what
 * `model.apply(x, { training: true })` computes, holding less memory.
 *
 * Outside the blocks the model's layers are applied one by one, and each intermediate is released
 * as soon as the next layer has it: what the backward pass needs, the tape keeps (its saved tensors
 * share the data), so only unneeded maps are freed, where tfjs-layers keeps all of them to the end
 * of the step.
 */
interface BnLayer {
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  epsilon: number;
  momentum: number;
}

function bnParams(model: tf.LayersModel, name: string): BatchNormParams {
  const l = model.getLayer(name) as unknown as BnLayer;
  return { gamma: l.gamma.read() as tf.Variable, beta: l.beta.read() as tf.Variable, movingMean: l.movingMean, movingVariance: l.movingVariance, epsilon: l.epsilon, momentum: l.momentum };
}

function kernel(model: tf.LayersModel, name: string): tf.Variable {
  return (model.getLayer(name) as unknown as { kernel: tf.LayerVariable }).kernel.read() as tf.Variable;
}

function hasLayer(model: tf.LayersModel, name: string): boolean {
  return model.layers.some((l) => l.name === name);
}

/** Applies the named layers in order, releasing each intermediate once the next layer has run. */
function sequence(model: tf.LayersModel, x: tf.Tensor, names: string[], release: boolean): tf.Tensor {
  let y = x;
  for (const name of names) {
    if (!hasLayer(model, name)) continue;
    const next = model.getLayer(name).apply(y, { training: true }) as tf.Tensor;
    if (release && y !== x) y.dispose();
    y = next;
  }
  return y;
}

function blockLayers(model: tf.LayersModel, config: DenseNetConfig, block: number, layers: number): DenseLayerParams[] {
  return Array.from({ length: layers }, (_, i) => {
    const name = `conv${block + 2}_block${i + 1}`;
    return {
      bn0: bnParams(model, `${name}_0_bn`),
      ...(config.bottleneck ? { conv1: kernel(model, `${name}_1_conv`), bn1: bnParams(model, `${name}_1_bn`) } : {}),
      conv2: kernel(model, `${name}_2_conv`),
      dropRate: config.dropRate,
    };
  });
}

/** Training-mode logits of `model` (built from `config`) for `x`, with memory-efficient dense blocks. */
export function memoryEfficientLogits(model: tf.LayersModel, config: DenseNetConfig, x: tf.Tensor): tf.Tensor {
  const stem = config.stem === 'cifar' ? ['conv1_conv'] : ['conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1'];
  let h = sequence(model, x, stem, true);
  config.blocks.forEach((layers, b) => {
    const out = memoryEfficientDenseBlock(h, blockLayers(model, config, b, layers));
    if (h !== x) h.dispose();
    h = out;
    if (b < config.blocks.length - 1) {
      const p = `pool${b + 2}`;
      const t = sequence(model, h, [`${p}_bn`, `${p}_relu`, `${p}_conv`, `${p}_drop`, `${p}_pool`], true);
      h.dispose();
      h = t;
    }
  });
  const logits = sequence(model, h, ['bn', 'relu', 'avg_pool', 'predictions'], true);
  if (h !== x) h.dispose();
  return logits;
}

/** The forward the training step uses: memory-efficient blocks, or tfjs-layers' own execution. */
export function trainingForward(model: tf.LayersModel, config: DenseNetConfig, memoryEfficient: boolean): (x: tf.Tensor) => tf.Tensor {
  return memoryEfficient ? (x) => memoryEfficientLogits(model, config, x) : (x) => model.apply(x, { training: true }) as tf.Tensor;
}
