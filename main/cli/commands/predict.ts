import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { WorkbenchError } from '../../../shared/errors';
import { BackendNameSchema } from '../../../shared/training';
import { openPredictor, predictFiles } from '../../engine/predict/predict';
import { PREPROCESSING_FILE } from '../../engine/export/preprocessing';
import { CONFIG_FILE, resolveRunDir } from '../../engine/runs/run-store';
import { addRunsOption, runsDirOf } from '../runs-option';

/** `densenet-workbench predict MODEL_DIR IMAGE... [--top K] [--json]`: MODEL_DIR is a run or an export folder. */
/**
 * A folder that holds a model (a run's config.json, an export's preprocessing.json) is taken as
 * it is; anything else may be the id or name of a run in the store.
 */
function modelOrRun(arg: string, runsDir: string): string {
  if ([CONFIG_FILE, PREPROCESSING_FILE].some((f) => fs.existsSync(path.join(arg, f)))) return arg;
  if (!fs.existsSync(arg)) return resolveRunDir(arg, runsDir);
  try {
    return resolveRunDir(arg, runsDir);
  } catch {
    return arg; // a folder without a model: openPredictor says what it lacks
  }
}

export function registerPredict(program: Command): void {
  const command = program
    .command('predict')
    .description('Classify image files with a run (its best checkpoint) or an export folder (TF.js or ONNX, with preprocessing.json).')
    .argument('<model-dir>', 'a run folder, an export folder, or the id or name of a run under --runs')
    .argument('<images...>', 'image files (PNG, JPEG, WebP, GIF, BMP)')
    .option('--top <k>', 'how many classes to show per image', '5')
    .option('--checkpoint <which>', 'for a run: best, latest or a checkpoint name', 'best')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu (TF.js models and runs)', 'auto')
    .option('--json', 'print the predictions as JSON');
  addRunsOption(command).action(async (modelDir: string, images: string[], flags: { top: string; checkpoint: string; backend: string; runs?: string; json?: boolean }) => {
    const top = Number(flags.top);
    if (!Number.isInteger(top) || top < 1) throw new WorkbenchError(`--top must be a whole number ≥ 1; got "${flags.top}".`);
    const backend = BackendNameSchema.safeParse(flags.backend);
    if (!backend.success) throw new WorkbenchError(`--backend must be auto, tensorflow, wasm or cpu; got "${flags.backend}".`);
    // One wasm thread: a few images don't need more.
    const target = modelOrRun(modelDir, runsDirOf({ runs: flags.runs }));
    const predictor = await openPredictor(target, flags.checkpoint, { backend: backend.data, threads: 1 });
    try {
      const results = await predictFiles(predictor, images, top);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ model: predictor.source, kind: predictor.kind, predictions: results }, null, 2) + '\n');
        return;
      }
      for (const r of results) {
        process.stdout.write(`${r.file}\n${r.top.map((t) => `  ${(t.probability * 100).toFixed(2).padStart(6)}%  ${t.label}`).join('\n')}\n`);
      }
    } finally {
      predictor.dispose();
    }
  });
}
