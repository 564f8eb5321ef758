import type * as tf from '@tensorflow/tfjs';
import { readImportRecord } from '../runs/import-record';

/**
 * Fine-tuning with frozen features: every layer but the classifier (`predictions`) gets
 * `trainable = false`, so `model.trainableWeights` (what the training engine's optimizer updates,
 * main/engine/train/model-weights.ts `trainVariables`) holds the classifier only.
 *
 * An imported run records the choice in its `import.json` (main/engine/runs/import-record.ts);
 * whoever rebuilds the run's model for training calls `applyImportFreeze(runDir, model)` after
 * building it.
 */
export const CLASSIFIER_LAYER = 'predictions';

/**
 * Porting note: Keras (≥ 2.1.3) runs a BatchNormalization layer with `trainable = False` in
 * inference mode: it normalizes with its moving statistics and leaves them alone, which is what
 * fine-tuning a pretrained network on a small dataset needs. tfjs-layers 4.22 looks only at the
 * `training` flag, so a frozen BN would still normalize with batch statistics and drift its moving
 * averages. Each frozen BN layer's `call` is therefore wrapped to force `training: false`; the
 * layer's class and config are unchanged, so saving and exporting are unaffected.
 */
export function freezeFeatureLayers(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    layer.trainable = layer.name === CLASSIFIER_LAYER;
    if (!layer.trainable) setInferenceMode(layer, true);
  }
}

/** Every layer trains again; batch norms run in inference mode only when `keepBatchNormStatistics`. */
export function unfreezeLayers(model: tf.LayersModel, keepBatchNormStatistics: boolean): void {
  for (const layer of model.layers) {
    layer.trainable = true;
    setInferenceMode(layer, keepBatchNormStatistics);
  }
}

/** The layer's own `call`, for layers whose call is wrapped to run in inference mode. */
const ORIGINAL_CALL = new WeakMap<tf.layers.Layer, tf.layers.Layer['call']>();

/**
 * Makes a BatchNormalization layer normalize with its moving statistics and leave them alone
 * (`on`), or restores its own `call` (batch statistics while training). Other layers are left alone.
 */
function setInferenceMode(layer: tf.layers.Layer, on: boolean): void {
  if (layer.getClassName() !== 'BatchNormalization') return;
  const original = ORIGINAL_CALL.get(layer);
  if (on && !original) {
    const call = layer.call.bind(layer);
    ORIGINAL_CALL.set(layer, layer.call);
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  } else if (!on && original) {
    layer.call = original;
    ORIGINAL_CALL.delete(layer);
  }
}

/** Reads the run's import.json (if any) and freezes the model's features when it asks to. Returns whether it did. */
export function applyImportFreeze(runDir: string, model: tf.LayersModel): boolean {
  // Not an imported run, or an unreadable record: train everything.
  const record = readImportRecord(runDir);
  if (record?.freezeFeatures) freezeFeatureLayers(model);
  return record?.freezeFeatures ?? false;
}
