import * as tf from '@tensorflow/tfjs';
import { BN_GRAD, BN_RELU, BN_TRAIN } from '../../backend/wasm/kernels/batch_norm_util';
import { allocUninitialised, readChannels, writeChannels } from '../../backend/wasm/channel-buffer';
import { updateMovingAverage, type BatchStats } from './batch-norm';
import type { BatchNormParams, DenseLayerParams, LayerRecord } from './types';
import { bottleneckBackward, bottleneckForward } from './bottleneck';

/**
 * The memory-efficient dense block on wasm, over one shared feature buffer (../../backend/wasm/
 * channel-buffer.ts): each layer's BN-ReLU reads its input, the buffer's first channels, in place,
 * and its k new maps are written into the next channels, so no concatenation is ever copied,
 * forward or backward; the backward pass adds each layer's input gradient into the buffer's
 * gradient in place, in the same order the generic path (./dense-block.ts) adds it piece by piece.
 * Same kernels and the same order of arithmetic as that path, so the same values.
 */
function channelsOf(t: tf.Tensor): number {
  return t.shape[t.rank - 1];
}

/** BN-ReLU of buf's first `channels` channels in training mode, updating the moving statistics. */
function trainPrefix(buf: tf.Tensor, channels: number, p: BatchNormParams): { r: tf.Tensor; stats: BatchStats } {
  const [r, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x: buf, gamma: p.gamma, beta: p.beta }, { epsilon: p.epsilon, relu: true, channels }) as tf.Tensor[];
  updateMovingAverage(p.movingMean, mean, p.momentum);
  updateMovingAverage(p.movingVariance, variance, p.momentum);
  return { r, stats: { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D } };
}

/** Forward over the block: the filled buffer (the block's output) and each layer's record. */
export function bufferForward(x0: tf.Tensor, layers: DenseLayerParams[]): { out: tf.Tensor; records: LayerRecord[] } {
  const c0 = channelsOf(x0);
  const k = channelsOf(layers[0].conv2);
  const buf = allocUninitialised([...x0.shape.slice(0, -1), c0 + layers.length * k]);
  writeChannels(buf, x0, 0);
  const records: LayerRecord[] = [];
  layers.forEach((l, i) => {
    const cin = c0 + i * k;
    const bn0 = trainPrefix(buf, cin, l.bn0);
    const { y, record } = bottleneckForward(bn0.r, l, bn0.stats);
    writeChannels(buf, y, cin);
    y.dispose();
    records.push(record);
  });
  return { out: buf, records };
}

/** The gradient of the block input and of every layer's weights (dense-block.ts' weightsOf order). */
export function bufferBackward(dy: tf.Tensor, buf: tf.Tensor, c0: number, layers: DenseLayerParams[], records: LayerRecord[]): tf.Tensor[] {
  const k = channelsOf(layers[0].conv2);
  const dbuf = readChannels(dy, 0, channelsOf(dy));
  const dWeights: tf.Tensor[][] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    const r = records[i];
    const cin = c0 + i * k;
    dWeights[i] = tf.tidy(() => {
      const dyl = readChannels(dbuf, cin, k);
      const r0 = tf.engine().runKernel(BN_RELU, { x: buf, mean: r.s0.mean, variance: r.s0.variance, gamma: l.bn0.gamma, beta: l.bn0.beta }, { epsilon: l.bn0.epsilon, channels: cin }) as tf.Tensor;
      const { dr0, dw } = bottleneckBackward(l, r, r0, dyl);
      // The input gradient is added into the buffer's gradient in place.
      const [dgamma, dbeta] = tf.engine().runKernel(BN_GRAD, { dy: dr0, x: buf, mean: r.s0.mean, variance: r.s0.variance, gamma: l.bn0.gamma, y: r0, into: dbuf }, { epsilon: l.bn0.epsilon, relu: true, channels: cin }) as tf.Tensor[];
      return [dgamma, dbeta, ...dw];
    });
  }
  const dx0 = readChannels(dbuf, 0, c0);
  dbuf.dispose();
  return [dx0, ...dWeights.flat()];
}
