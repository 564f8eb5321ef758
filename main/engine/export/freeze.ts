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

export function freezeFeatureLayers(model: tf.LayersModel): void {
  for (const layer of model.layers) layer.trainable = layer.name === CLASSIFIER_LAYER;
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
