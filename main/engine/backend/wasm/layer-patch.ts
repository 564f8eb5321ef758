import * as tf from '@tensorflow/tfjs';
import { batchNormTraining, fusedBatchNormAvailable } from './batch-norm-training';

/**
 * Routes tf.layers BatchNormalization's training step through the fused kernels.
 *
 * Porting note: tfjs-layers gives no hook between BatchNormalization and its ops, so the layer's
 * `call` is wrapped on its prototype. The wrapper takes over only when it computes exactly what the
 * layer would: training mode, normalising over every axis but the last, with centre and scale, on a
 * backend that has the fused kernels (wasm here). Everything else, and every other backend, runs the
 * original method. The moving averages are updated as tfjs-layers does (v -= (v - batch) * (1 - momentum),
 * biased batch variance), so weights, configs and serialisation are untouched.
 */
interface BatchNormLayer {
  axis: number;
  epsilon: number;
  momentum: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

type CallFn = (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

let original: CallFn | null = null;

export function patchBatchNormalization(): void {
  if (original) return;
  const proto = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: CallFn };
  original = proto.call;
  const stock = original;
  proto.call = function (this: BatchNormLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const rank = x.rank;
    const axis = this.axis >= 0 ? this.axis : this.axis + rank;
    if (!kwargs?.['training'] || axis !== rank - 1 || !this.center || !this.scale || x.dtype !== 'float32' || !fusedBatchNormAvailable()) {
      return stock.call(this, inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, this.gamma.read(), this.beta.read(), this.epsilon);
      const decay = 1 - this.momentum;
      for (const [variable, value] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
        });
        value.dispose();
      }
      return y;
    });
  };
}

export function unpatchBatchNormalization(): void {
  if (!original) return;
  const proto = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: CallFn };
  proto.call = original;
  original = null;
}
