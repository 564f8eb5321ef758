import * as tf from '@tensorflow/tfjs';
import { bnReluApply, bnReluGrad, trainBnRelu, type BatchStats } from './batch-norm';
import type { DenseLayerParams, LayerRecord } from './types';
import { convFilterGrad, convInputGrad, convSame, dropoutInPlaceOf, dropoutMultiplier } from './ops';

/**
 * The part of a dense layer's forward pass both memory-efficient paths share: from the output `h`
 * of its first BN-ReLU (which it disposes) to its k new maps, through the bottleneck's 1x1 conv and
 * BN-ReLU and the dropouts, with the record its backward pass needs (`s0`: bn0's batch statistics).
 */
export function bottleneckForward(h: tf.Tensor, l: DenseLayerParams, s0: BatchStats): { y: tf.Tensor; record: LayerRecord } {
  const record: LayerRecord = { s0 };
  if (l.conv1 && l.bn1) {
    const z1 = dropoutInPlaceOf(convSame(h, l.conv1), l.dropRate);
    h.dispose();
    record.z1 = z1.y;
    record.seed1 = z1.seed;
    const bn1 = trainBnRelu(z1.y, l.bn1);
    record.s1 = bn1.stats;
    h = bn1.r;
  }
  const z2 = dropoutInPlaceOf(convSame(h, l.conv2), l.dropRate);
  h.dispose();
  record.seed2 = z2.seed;
  return { y: z2.y, record };
}

/**
 * The part of a dense layer's backward pass both memory-efficient paths share: from the gradient
 * of the layer's k new maps back to the gradient of its first BN-ReLU's output `r0` (recomputed by
 * the caller from the layer's input, wherever that input lives), recomputing the bottleneck's
 * BN-ReLU and regenerating the dropout masks on the way. Returns that gradient and the weight
 * gradients after bn0's, in weightsOf order: [conv1, bn1.gamma, bn1.beta, conv2] with a
 * bottleneck, [conv2] without.
 */
export function bottleneckBackward(l: DenseLayerParams, r: LayerRecord, r0: tf.Tensor, dy: tf.Tensor): { dr0: tf.Tensor; dw: tf.Tensor[] } {
  const r1 = l.bn1 && r.z1 && r.s1 ? bnReluApply(r.z1, r.s1, l.bn1.gamma, l.bn1.beta, l.bn1.epsilon) : null;
  const h = r1 ?? r0;
  const dz2 = r.seed2 !== undefined ? tf.mul(dy, dropoutMultiplier(dy.shape, l.dropRate, r.seed2)) : dy;
  const dw2 = convFilterGrad(h, dz2, l.conv2.shape);
  let dr0 = convInputGrad(dz2, l.conv2, h.shape);
  const dw: tf.Tensor[] = [];
  if (l.conv1 && l.bn1 && r1 && r.z1 && r.s1) {
    const b1 = bnReluGrad(dr0, r1, r.z1, r.s1, l.bn1.gamma, l.bn1.epsilon);
    const dz1 = r.seed1 !== undefined ? tf.mul(b1.dx, dropoutMultiplier(b1.dx.shape, l.dropRate, r.seed1)) : b1.dx;
    dw.push(convFilterGrad(r0, dz1, l.conv1.shape));
    dr0 = convInputGrad(dz1, l.conv1, r0.shape);
    dw.push(b1.dgamma, b1.dbeta);
  }
  return { dr0, dw: [...dw, dw2] };
}
