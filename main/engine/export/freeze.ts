import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';

/**
 * Fine-tuning with frozen features: every layer but the classifier (`predictions`) gets
 * `trainable = false`, so `model.trainableWeights` (what the Training engine's optimizer updates,
 * main/engine/train/model-weights.ts `trainVariables`) holds the classifier only.
 *
 * An imported run records the choice in `import.json`; whoever rebuilds the run's model for
 * training calls `applyImportFreeze(runDir, model)` after building it, since config.json's
 * settings have no field for it.
 */
export const IMPORT_FILE = 'import.json';
export const CLASSIFIER_LAYER = 'predictions';

export const ImportRecordSchema = z.object({
  format: z.literal(1),
  source: z.string(),
  kind: z.enum(['torchvision-safetensors', 'tfjs-layers']),
  headReplaced: z.boolean(),
  freezeFeatures: z.boolean(),
  ignoredKeys: z.array(z.string()),
});
export type ImportRecord = z.infer<typeof ImportRecordSchema>;

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
    if (!layer.trainable && layer.getClassName() === 'BatchNormalization') {
      const call = layer.call.bind(layer);
      layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
    }
  }
}

/** Reads the run's import.json (if any) and freezes the model's features when it asks to. Returns whether it did. */
export function applyImportFreeze(runDir: string, model: tf.LayersModel): boolean {
  let record: ImportRecord;
  try {
    record = ImportRecordSchema.parse(JSON.parse(fs.readFileSync(path.join(runDir, IMPORT_FILE), 'utf8')));
  } catch {
    return false; // not an imported run, or an unreadable record: train everything
  }
  if (record.freezeFeatures) freezeFeatureLayers(model);
  return record.freezeFeatures;
}
