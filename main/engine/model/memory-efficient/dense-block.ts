import * as tf from '@tensorflow/tfjs';
import { bnReluApply, bnReluGrad, trainBnRelu } from './batch-norm';
import type { DenseLayerParams, LayerRecord } from './types';
import { channelBuffersAvailable } from '../../backend/wasm/channel-buffer';
import { bufferBackward, bufferForward } from './dense-block-buffer';
import { bottleneckBackward, bottleneckForward } from './bottleneck';

/**
 * A whole dense block (Huang et al. §3, Eq. 2) as one differentiable op that stores only what
 * cannot be recomputed cheaply: the block input, each layer's k new feature maps, and each
 * bottleneck's 4k-map conv output. Every concatenation and every BN-ReLU of a dense layer's input
 * is recomputed in the backward pass instead of stored (Pleiss et al. 2017, "Memory-Efficient
 * Implementation of DenseNets", §3; torchvision's `memory_efficient=True`), so feature-map memory
 * grows linearly with depth instead of quadratically.
 *
 * Porting note: torchvision checkpoints concatenation + BN + ReLU + the 1x1 conv and recomputes the
 * conv too; this keeps the 1x1 conv's output (4k maps a layer) and recomputes only the
 * elementwise work, which costs no extra multiply-adds. The backward pass is written out (the
 * gradients of BN, ReLU, dropout and both convolutions), computing the same gradients the plain
 * path's autodiff does, with the batch statistics of the forward pass reused.
 */
function weightsOf(l: DenseLayerParams): tf.Variable[] {
  return l.conv1 && l.bn1 ? [l.bn0.gamma, l.bn0.beta, l.conv1, l.bn1.gamma, l.bn1.beta, l.conv2] : [l.bn0.gamma, l.bn0.beta, l.conv2];
}

/** BN in training mode and the ReLU after it, updating the moving statistics as the BN layer would. */
/** Forward of one layer: its k new maps, plus what its backward pass needs. */
function layerForward(pieces: tf.Tensor[], l: DenseLayerParams): { y: tf.Tensor; record: LayerRecord } {
  const x = pieces.length === 1 ? pieces[0] : tf.concat(pieces, 3);
  const bn0 = trainBnRelu(x, l.bn0);
  if (x !== pieces[0]) x.dispose();
  return bottleneckForward(bn0.r, l, bn0.stats);
}

/**
 * Backward of one layer, given the gradient of its new maps; returns the gradient of its input
 * (all earlier maps, concatenated) and of its weights, in weightsOf order.
 */
function layerBackward(pieces: tf.Tensor[], l: DenseLayerParams, r: LayerRecord, dy: tf.Tensor): { dx: tf.Tensor; dw: tf.Tensor[] } {
  return tf.tidy(() => {
    const x = pieces.length === 1 ? pieces[0] : tf.concat(pieces, 3);
    const r0 = bnReluApply(x, r.s0, l.bn0.gamma, l.bn0.beta, l.bn0.epsilon);
    const { dr0, dw } = bottleneckBackward(l, r, r0, dy);
    const b0 = bnReluGrad(dr0, r0, x, r.s0, l.bn0.gamma, l.bn0.epsilon);
    return { dx: b0.dx, dw: [b0.dgamma, b0.dbeta, ...dw] };
  });
}

/**
 * The block's output (its input and every layer's new maps, concatenated), differentiable in the
 * input and every layer's weights. Updates the BN moving statistics as the plain layers would.
 */
export function memoryEfficientDenseBlock(x0: tf.Tensor, layers: DenseLayerParams[]): tf.Tensor {
  const weights = layers.flatMap(weightsOf);
  if (channelBuffersAvailable()) return bufferedBlock(x0, layers, weights);
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor;
    const pieces = [input];
    const records: LayerRecord[] = [];
    for (const l of layers) {
      const { y, record } = layerForward(pieces, l);
      pieces.push(y);
      records.push(record);
    }
    const out = tf.concat(pieces, 3);
    // Saved: the maps (stored once, not once per concatenation), the bottleneck outputs and the
    // batch statistics. Everything else computed above is freed when this forward pass returns.
    save([...pieces, ...savedOf(records)]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => backward(dy, saved, layers, records),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x0, ...weights);
}

/** The same op over one shared feature buffer (wasm: ./dense-block-buffer.ts). */
function bufferedBlock(x0: tf.Tensor, layers: DenseLayerParams[], weights: tf.Variable[]): tf.Tensor {
  const c0 = x0.shape[x0.rank - 1];
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { out, records } = bufferForward(args[0] as tf.Tensor, layers);
    save([out, ...savedOf(records)]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => bufferBackward(dy, saved[0], c0, layers, restore(saved, 1, records)),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x0, ...weights);
}

/** The records' tensors, in the order restore() reads them back. */
function savedOf(records: LayerRecord[]): tf.Tensor[] {
  return records.flatMap((r) => [r.s0.mean, r.s0.variance, ...(r.z1 && r.s1 ? [r.z1, r.s1.mean, r.s1.variance] : [])]);
}

/** The records with their tensors replaced by the saved clones, starting at saved[from]. */
function restore(saved: tf.Tensor[], from: number, forward: LayerRecord[]): LayerRecord[] {
  let i = from;
  return forward.map((f) => {
    const r: LayerRecord = { s0: { mean: saved[i++] as tf.Tensor1D, variance: saved[i++] as tf.Tensor1D }, seed1: f.seed1, seed2: f.seed2 };
    if (f.z1 && f.s1) {
      r.z1 = saved[i++];
      r.s1 = { mean: saved[i++] as tf.Tensor1D, variance: saved[i++] as tf.Tensor1D };
    }
    return r;
  });
}

function backward(dy: tf.Tensor, saved: tf.Tensor[], layers: DenseLayerParams[], forward: LayerRecord[]): tf.Tensor[] {
  const pieces = saved.slice(0, layers.length + 1);
  const records = restore(saved, layers.length + 1, forward);
  // dPieces[j]: the gradient of piece j so far; layer l's is complete once every later layer and
  // the block output have added theirs, which is when the reverse sweep reaches it.
  const dPieces = tf.split(dy, pieces.map((p) => p.shape[3] as number), 3);
  const dWeights: tf.Tensor[][] = [];
  for (let l = layers.length - 1; l >= 0; l--) {
    const { dx, dw } = layerBackward(pieces.slice(0, l + 1), layers[l], records[l], dPieces[l + 1]);
    dPieces[l + 1].dispose();
    dWeights[l] = dw;
    const parts = l === 0 ? [dx] : tf.split(dx, pieces.slice(0, l + 1).map((p) => p.shape[3] as number), 3);
    if (parts[0] !== dx) dx.dispose();
    parts.forEach((d, j) => {
      const sum = tf.add(dPieces[j], d);
      tf.dispose([dPieces[j], d]);
      dPieces[j] = sum;
    });
  }
  return [dPieces[0], ...dWeights.flat()];
}
