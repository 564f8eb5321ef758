import * as path from 'node:path';
import type { Command } from 'commander';
import { WorkbenchError } from '../../../shared/errors';
import { BackendNameSchema, type BackendName } from '../../../shared/training';
import type { Batch } from '../../engine/data';
import { evaluateDetailed, evaluationEvent, type DetailedEvalResult } from '../../engine/inspect/evaluation';
import { openRun, type OpenedRun } from '../../engine/run/open-run';
import { METRICS_FILE } from '../../engine/runs/metrics-log';
import { recordResult } from '../../engine/runs/record-result';
import { resolveRunDir } from '../../engine/runs/run-store';
import { parseDatasetArg } from '../dataset-args';
import { addRunsOption, runsDirOf, type RunsFlags } from '../runs-option';
import { percent } from '../../../shared/format';

/**
 * `densenet-workbench eval RUN [--data]`: accuracy, per-class precision and recall, and the
 * confusion matrix of a run's checkpoint. Without --data it evaluates the run's own held-out data
 * (the test split when the dataset has one, else the validation split, exactly as split in
 * training); with --data it evaluates every image of that dataset, whose classes must be the run's.
 */
interface EvalFlags extends RunsFlags {
  /** The run store's old spelling. */
  out?: string;
  data?: string;
  checkpoint: string;
  backend: string;
  batch?: string;
  json?: boolean;
}

async function* concat(run: OpenedRun, splits: Parameters<OpenedRun['batches']>[0][], batchSize: number | undefined): AsyncGenerator<Batch> {
  for (const s of splits) if (s.size > 0) yield* run.batches(s, batchSize);
}

const pct = (x: number) => percent(x, 1).padStart(6);

export function formatEval(r: DetailedEvalResult, title: string): string {
  const out = [`${title}: ${r.samples} images, accuracy ${percent(r.accuracy, 2)}, loss ${r.loss.toFixed(4)}.`];
  const w = Math.min(24, Math.max(5, ...r.classes.map((c) => c.length)));
  out.push(`  ${'class'.padEnd(w)}  precision  recall  support`);
  r.classes.forEach((c, i) => {
    const { precision, recall, support } = r.perClass[i];
    out.push(`  ${c.slice(0, w).padEnd(w)}  ${pct(precision).padStart(9)}  ${pct(recall).padStart(6)}  ${String(support).padStart(7)}`);
  });
  if (r.classes.length <= 30) {
    const cw = Math.max(4, ...r.confusion.flat().map((v) => String(v).length));
    out.push('Confusion matrix (rows: true class, columns: predicted, in class order):');
    r.confusion.forEach((row, i) => out.push(`  ${String(i).padStart(3)} ${r.classes[i].slice(0, w).padEnd(w)} ${row.map((v) => String(v).padStart(cw)).join(' ')}`));
  } else {
    out.push('The confusion matrix has more than 30 classes; use --json to get it.');
  }
  return out.join('\n') + '\n';
}

export function registerEval(program: Command): void {
  const command = program
    .command('eval')
    .description('Evaluate a run: accuracy, per-class precision and recall, confusion matrix.')
    .argument('<run>', 'a run folder, or the id or name of a run under --runs')
    .option('--data <dataset>', 'evaluate every image of this dataset instead of the run\'s held-out split')
    .option('--checkpoint <which>', 'best, latest or a checkpoint name', 'best')
    .option('--backend <name>', `backend: ${BackendNameSchema.options.join(', ')}`, 'auto')
    .option('--batch <n>', 'batch size (default: the run\'s)')
    .option('--json', 'print the result as JSON');
  addRunsOption(command, { legacyOut: true }).action(async (runArg: string, flags: EvalFlags) => {
    const backend = BackendNameSchema.safeParse(flags.backend);
    if (!backend.success) throw new WorkbenchError(`--backend must be one of ${BackendNameSchema.options.join(', ')}; got "${flags.backend}".`);
    const batchSize = flags.batch === undefined ? undefined : Number(flags.batch);
    if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 4096)) {
      throw new WorkbenchError(`--batch must be an integer in 1..4096; got "${flags.batch}".`);
    }
    const dir = resolveRunDir(runArg, runsDirOf(flags, flags.out));
    // One thread: inference on a held-out split is quick, and a short-lived CLI process need not
    // start wasm's pthread workers.
    const run = openRun(dir);
    const { config } = run;
    const { model, manifest } = await run.restoreModel(flags.checkpoint, { backend: backend.data as BackendName, threads: 1 });
    try {
      // The run's held-out data as training split it, or all of another dataset.
      const { dataset } = await run.loadData(flags.data ? { spec: parseDatasetArg(flags.data), valFraction: 0 } : {});
      if (dataset.classes.join('\n') !== config.dataset.classes.join('\n')) {
        throw new WorkbenchError(`Dataset ${dataset.name} has classes [${dataset.classes.slice(0, 8).join(', ')}${dataset.classes.length > 8 ? ', …' : ''}], but run ${config.id} was trained on [${config.dataset.classes.slice(0, 8).join(', ')}${config.dataset.classes.length > 8 ? ', …' : ''}].`);
      }
      const heldOut = dataset.test && dataset.test.size > 0 ? { splits: [dataset.test], name: 'test split' } : { splits: [dataset.val], name: 'validation split' };
      const { splits, name } = flags.data
        ? { splits: [dataset.train, dataset.val, ...(dataset.test ? [dataset.test] : [])], name: `all of ${dataset.name}` }
        : heldOut;
      if (splits.every((s) => s.size === 0)) throw new WorkbenchError(`Run ${config.id} has no held-out images to evaluate on (its validation fraction is 0); pass --data.`);
      const result = await evaluateDetailed(model, concat(run, splits, batchSize), dataset.classes);
      // Kept with the run, like an evaluation in the app: it reopens with it and its report shows it.
      recordResult(dir, await evaluationEvent(result, { runId: config.id, step: manifest.step, checkpoint: manifest.name, split: name, splits }));
      if (flags.json) {
        process.stdout.write(JSON.stringify({ run: config.id, checkpoint: manifest.name, step: manifest.step, data: name, ...result }, null, 2) + '\n');
      } else {
        process.stdout.write(formatEval(result, `Run ${config.id}, checkpoint ${manifest.name} (step ${manifest.step}), ${name}`));
        process.stdout.write(`Recorded in ${path.join(dir, METRICS_FILE)}.\n`);
      }
    } finally {
      model.dispose();
    }
  });
}
