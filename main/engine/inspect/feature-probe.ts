import * as tf from '@tensorflow/tfjs';
import type { LayerStat } from '../../../shared/protocol/inspect';
import { decodeStats, statsVector } from './stats';

/**
 * A multi-output view of a model: the same layer objects, hence the same weights, with their
 * intermediate outputs exposed. Building it adds no variables and leaves the
 * training graph untouched; `predict` runs every layer in inference mode (BN moving statistics,
 * no dropout), so a probe never updates BN statistics nor draws from the dropout RNG.
 */
export class FeatureProbe {
  readonly layers: readonly string[];
  private readonly view: tf.LayersModel;

  constructor(model: tf.LayersModel, layers: readonly string[]) {
    if (layers.length === 0) throw new RangeError('A feature probe needs at least one layer name.');
    const outputs = layers.map((name) => {
      let layer: tf.layers.Layer;
      try {
        layer = model.getLayer(name);
      } catch {
        throw new RangeError(`The model ${model.name} has no layer named ${name}.`);
      }
      return layer.output as tf.SymbolicTensor;
    });
    this.layers = [...layers];
    this.view = tf.model({ inputs: model.inputs, outputs, name: `${model.name}_probe` });
  }

  /** The layers' outputs for `x` (caller disposes them, or calls this inside tf.tidy()). */
  outputs(x: tf.Tensor): tf.Tensor[] {
    const out = this.view.predict(x, { batchSize: x.shape[0] });
    return Array.isArray(out) ? out : [out];
  }

  /** Feature-map statistics of every layer for the batch `x`, with one download. */
  async stats(x: tf.Tensor4D): Promise<LayerStat[]> {
    const packed = tf.tidy(() => tf.concat(this.outputs(x).map(statsVector)));
    try {
      return decodeStats(this.layers, await packed.data());
    } finally {
      packed.dispose();
    }
  }
}
