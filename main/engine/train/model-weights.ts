import * as tf from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../shared/errors';
import type { NamedArray } from '../runs/checkpoint';
import type { TrainVariable } from './optimizers';

/**
 * Model weights by stable name. tfjs makes variable names unique per process (`bn/gamma_1` for a
 * second model), so checkpoints key on LayerVariable.originalName (`bn/gamma`), which comes from the
 * Keras layer names that main/engine/model pins.
 */
export function weightName(w: tf.LayerVariable): string {
  return w.originalName;
}

/** The model's trainable variables, as the optimizer and tf.variableGrads need them. */
export function trainVariables(model: tf.LayersModel): TrainVariable[] {
  // LayerVariable.read() returns the underlying tf.Variable itself, not a copy.
  return model.trainableWeights.map((w) => ({ name: weightName(w), variable: w.read() as tf.Variable }));
}

/**
 * Every weight that trains when no layer is frozen (all but the batch norms' moving statistics),
 * whatever the layers' `trainable` flags say now: what a fine-tuning run's optimizer keeps slots for.
 */
export function trainableWeightVariables(model: tf.LayersModel): TrainVariable[] {
  return model.weights
    .filter((w) => !/\/moving_(mean|variance)$/.test(weightName(w)))
    .map((w) => ({ name: weightName(w), variable: w.read() as tf.Variable }));
}

/** Every weight (trainable and batch-norm moving statistics) copied into plain arrays. */
export function getModelWeights(model: tf.LayersModel): NamedArray[] {
  return model.weights.map((w) => ({
    name: weightName(w),
    shape: w.shape.map((d) => d as number),
    data: Float32Array.from(w.read().dataSync() as Float32Array),
  }));
}

/**
 * Loads named arrays into the model. Every model weight must be present with its shape; extra
 * entries are an error too, since they mean the checkpoint belongs to another architecture.
 */
export function setModelWeights(model: tf.LayersModel, weights: NamedArray[]): void {
  const byName = new Map(weights.map((w) => [w.name, w]));
  const problems: string[] = [];
  const used = new Set<string>();
  for (const w of model.weights) {
    const name = weightName(w);
    const saved = byName.get(name);
    const shape = w.shape.map((d) => d as number);
    if (!saved) problems.push(`${name} is missing`);
    else if (saved.shape.join(',') !== shape.join(',')) problems.push(`${name} has shape [${saved.shape.join(', ')}], the model needs [${shape.join(', ')}]`);
    used.add(name);
  }
  for (const name of byName.keys()) if (!used.has(name)) problems.push(`${name} is not in the model`);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    throw new WorkbenchError(`The weights do not fit this model: ${shown}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}.`);
  }
  for (const w of model.weights) {
    const saved = byName.get(weightName(w))!;
    tf.tidy(() => {
      w.write(tf.tensor(saved.data, saved.shape, 'float32'));
    });
  }
}
