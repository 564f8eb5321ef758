import * as path from 'node:path';
import { z } from 'zod';
import { readJsonFileOrNull, writeJsonAtomic } from './run-files';

/**
 * `import.json`: the side file of a run made from pretrained weights (`densenet-workbench import`, or
 * a new run that starts from weights or another run's checkpoint).
 * It says where the weights came from and whether the features are frozen for fine-tuning, a choice
 * config.json's settings have no field for; whoever rebuilds the run's model for training reads it.
 */
export const IMPORT_FILE = 'import.json';

export const ImportRecordSchema = z.object({
  format: z.literal(1),
  source: z.string(),
  kind: z.enum(['torchvision-safetensors', 'torchvision-pth', 'tfjs-layers', 'run-checkpoint']),
  headReplaced: z.boolean(),
  freezeFeatures: z.boolean(),
  ignoredKeys: z.array(z.string()),
});
export type ImportRecord = z.infer<typeof ImportRecordSchema>;

/** The run's import record; null for a run trained from scratch, or one whose record is unreadable. */
export function readImportRecord(runDir: string): ImportRecord | null {
  return readJsonFileOrNull(path.join(runDir, IMPORT_FILE), ImportRecordSchema, 'Import record');
}

export function writeImportRecord(runDir: string, record: ImportRecord): void {
  writeJsonAtomic(path.join(runDir, IMPORT_FILE), ImportRecordSchema.parse(record));
}
