import type * as tf from '@tensorflow/tfjs';
import type { BatchStats } from './batch-norm';

/** What the memory-efficient dense block (./dense-block.ts) is given, and keeps, for each layer. */
export interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  epsilon: number;
  momentum: number;
}

export interface DenseLayerParams {
  bn0: BatchNormParams;
  /** The bottleneck: 1x1 conv to 4k maps and its BN (absent without B). */
  conv1?: tf.Variable;
  bn1?: BatchNormParams;
  conv2: tf.Variable;
  dropRate: number;
}

/** What one layer's forward pass leaves for its backward pass. */
export interface LayerRecord {
  s0: BatchStats;
  z1?: tf.Tensor;
  s1?: BatchStats;
  seed1?: number;
  seed2?: number;
}
