import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import sharp from 'sharp';
import { WorkbenchError } from '../../../shared/errors';
import type { TrainerEvent, TrainerEventOf } from '../../../shared/protocol';
import { BackendNameSchema } from '../../../shared/training';
import { activationSheet } from '../../engine/inspect/activations';
import { renderHeatmap } from '../../engine/inspect/heatmap';
import { recordResult } from '../../engine/runs/record-result';
import { imageForRun, openForInspection } from '../../engine/run/inspect-run';
import { readMetrics, resolveRunDir } from '../../engine/runs/run-store';
import { addRunsOption, runsDirOf, type RunsFlags } from '../runs-option';
import { fixed, percent } from '../../../shared/format';

/**
 * `densenet-workbench inspect RUN [--checkpoint C] --stats|--gradients|--contributions|--activations IMAGE|--ablation|--evaluation [--out DIR] [--json]`
 *
 * Inspects a run from one of its checkpoints and writes, under --out (default RUN/inspect):
 * `<what>.json` (the protocol event), plus PNGs: one Fig. 5 heat map per dense block, a gradient
 * flow heat map (layers × recorded steps), and one activation sheet per layer. Prints a readable
 * summary, or with --json one event per line.
 */
interface InspectFlags extends RunsFlags {
  checkpoint: string;
  backend: string;
  stats?: boolean;
  gradients?: boolean;
  contributions?: boolean;
  activations?: string;
  ablation?: boolean;
  evaluation?: boolean;
  out?: string;
  json?: boolean;
}

const pct = (v: number) => percent(v, 1);
const num = (v: number) => fixed(v, 4);

function write(out: string, name: string, data: string | Buffer, written: string[]): void {
  const file = path.join(out, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  written.push(file);
}

function describe(event: TrainerEvent): string {
  switch (event.type) {
    case 'layerStats':
      return [
        `Layer statistics at step ${event.step} (${event.layers.length} layers, fixed validation probe batch):`,
        `  ${'layer'.padEnd(14)} ${'mean'.padStart(10)} ${'std'.padStart(10)} ${'min'.padStart(10)} ${'max'.padStart(10)} ${'≤0'.padStart(7)}`,
        ...event.layers.map((l) => `  ${l.layer.padEnd(14)} ${num(l.mean).padStart(10)} ${num(l.std).padStart(10)} ${num(l.min).padStart(10)} ${num(l.max).padStart(10)} ${pct(l.zeroFraction).padStart(7)}`),
      ].join('\n');
    case 'gradients':
      return [
        `Gradient flow at step ${event.step}:`,
        `  ${'layer'.padEnd(24)} ${'‖g‖'.padStart(10)} ${'‖w‖'.padStart(10)} ${'‖Δw‖/‖w‖'.padStart(10)}`,
        ...event.layers.map((l) => `  ${l.layer.padEnd(24)} ${num(l.gradNorm).padStart(10)} ${num(l.weightNorm).padStart(10)} ${(l.updateRatio === null ? '–' : num(l.updateRatio)).padStart(10)}`),
      ].join('\n');
    case 'contributions':
      return event.blocks
        .map((b) => [
          `Block ${b.block} contributions (rows: targets; columns: ${b.sources.join(', ')}):`,
          ...b.values.map((row, t) => `  ${b.targets[t].padEnd(14)} ${row.map((v) => (v === null ? '·' : num(v)).padStart(8)).join(' ')}`),
        ].join('\n'))
        .join('\n');
    case 'activations':
      return `Activation maps of sample ${event.sample}${event.label ? ` (${event.label})` : ''}: ${event.layers.map((l) => `${l.layer} [${l.channels.join(',')}]`).join(', ')}`;
    case 'ablation':
      return [
        `Layer ablation: baseline validation accuracy ${pct(event.baselineAccuracy)}; with one layer's new maps zeroed:`,
        ...[...event.layers].sort((a, b) => b.drop - a.drop).map((l) => `  ${l.layer.padEnd(14)} ${pct(l.accuracy).padStart(7)}  (drop ${pct(l.drop)})`),
      ].join('\n');
    case 'evaluation':
      return [
        `Validation accuracy ${pct(event.accuracy)}.`,
        ...event.classes.map((c, i) => `  ${c.padEnd(16)} precision ${pct(event.perClass[i].precision).padStart(6)}  recall ${pct(event.perClass[i].recall).padStart(6)}  n=${event.perClass[i].support}`),
        `Confusion (rows actual, columns predicted): ${JSON.stringify(event.confusion)}`,
        `Most confident mistakes: ${event.misclassified.slice(0, 5).map((m) => `#${m.index} ${event.classes[m.actual]}→${event.classes[m.predicted]} (${pct(m.confidence)})`).join(', ') || 'none'}`,
      ].join('\n');
    default:
      return JSON.stringify(event);
  }
}

/** One activation sheet per layer, from the event's per-channel PNGs. */
async function activationSheets(event: TrainerEventOf<'activations'>, out: string, written: string[]): Promise<void> {
  for (const layer of event.layers) {
    const pixels = await Promise.all(layer.pngs.map(async (b64) => new Uint8Array(await sharp(Buffer.from(b64, 'base64')).extractChannel(0).raw().toBuffer())));
    write(out, path.join('activations', `${layer.layer}.png`), await activationSheet({ ...layer, pixels }), written);
  }
}

/** Gradient norms of every recorded gradients event: rows are layers, columns recorded steps, log10 scale. */
function gradientRows(events: TrainerEventOf<'gradients'>[]): (number | null)[][] {
  const layers = events[events.length - 1].layers.map((l) => l.layer);
  return layers.map((layer) =>
    events.map((e) => {
      const g = e.layers.find((l) => l.layer === layer)?.gradNorm;
      return g !== undefined && g > 0 ? Math.log10(g) : null;
    }),
  );
}

async function runInspect(run: string, flags: InspectFlags): Promise<void> {
  const wanted = (['stats', 'gradients', 'contributions', 'activations', 'ablation', 'evaluation'] as const).filter((w) => flags[w] !== undefined && flags[w] !== false);
  if (wanted.length === 0) {
    throw new WorkbenchError('Say what to inspect: one or more of --stats, --gradients, --contributions, --activations IMAGE, --ablation, --evaluation.');
  }
  const backend = BackendNameSchema.safeParse(flags.backend);
  if (!backend.success) throw new WorkbenchError(`--backend must be one of ${BackendNameSchema.options.join(', ')}; got "${flags.backend}".`);
  const runDir = resolveRunDir(run, runsDirOf({ runs: flags.runs }));
  const out = path.resolve(flags.out ?? path.join(runDir, 'inspect'));
  const written: string[] = [];
  const events: TrainerEvent[] = [];
  const report = (e: TrainerEvent) => {
    events.push(e);
    process.stdout.write(flags.json ? `${JSON.stringify(e)}\n` : `${describe(e)}\n`);
  };

  if (flags.gradients) {
    // Gradients exist only inside a training step: the run's recorded gradient flow is the answer.
    const recorded = readMetrics(runDir).events.filter((e): e is TrainerEventOf<'gradients'> => e.type === 'gradients');
    if (recorded.length === 0) {
      throw new WorkbenchError(`Run ${path.basename(runDir)} recorded no gradient flow; train with gradientsEvery > 0 (the default is 50 steps).`);
    }
    write(out, 'gradients.json', JSON.stringify(recorded, null, 1), written);
    write(out, 'gradients.png', await renderHeatmap(gradientRows(recorded), { cell: 8 }), written);
    report(recorded[recorded.length - 1]);
  }

  const needsModel = wanted.some((w) => w !== 'gradients');
  if (!needsModel) return finish(written, flags);
  const needsData = wanted.some((w) => w === 'stats' || w === 'ablation' || w === 'evaluation' || (w === 'activations' && /^\d+$/.test(flags.activations ?? '')));
  const ctx = await openForInspection(runDir, { checkpoint: flags.checkpoint, withData: needsData, backend: backend.data });
  try {
    for (const w of ctx.warnings) process.stderr.write(`Warning: ${w}\n`);
    const inspector = ctx.inspector(() => {});
    if (flags.stats) {
      const e = await inspector.stats(false);
      if (!e) throw new WorkbenchError(`Run ${ctx.config.id} has no validation split to take a probe batch from.`);
      write(out, 'stats.json', JSON.stringify(e, null, 1), written);
      report(e);
    }
    if (flags.contributions) {
      const e = await inspector.contributions();
      write(out, 'contributions.json', JSON.stringify(e, null, 1), written);
      for (const b of e.blocks) write(out, `contributions-block${b.block}.png`, await renderHeatmap(b.values), written);
      report(e);
    }
    if (flags.activations !== undefined) {
      const arg = flags.activations;
      let e: TrainerEventOf<'activations'>;
      if (/^\d+$/.test(arg)) {
        e = await inspector.activations(Number(arg));
      } else {
        const image = await imageForRun(arg, ctx.config);
        try {
          e = await inspector.activationsOfImage(image, 0, path.basename(arg));
        } finally {
          image.dispose();
        }
      }
      write(out, 'activations.json', JSON.stringify(e, null, 1), written);
      await activationSheets(e, out, written);
      report(e);
    }
    if (flags.ablation) {
      let shown = -1;
      const e = await inspector.ablation({
        onProgress: (done, total) => {
          const pctDone = total ? Math.floor((100 * done) / total) : 0;
          if (!flags.json && pctDone >= shown + 10) {
            shown = pctDone;
            process.stderr.write(`  ablation ${pctDone}% done\n`);
          }
        },
      });
      write(out, 'ablation.json', JSON.stringify(e, null, 1), written);
      recordResult(runDir, e);
      report(e);
    }
    if (flags.evaluation) {
      const e = await inspector.evaluation();
      write(out, 'evaluation.json', JSON.stringify(e, null, 1), written);
      recordResult(runDir, e);
      report(e);
    }
  } catch (err) {
    // Inspection's own range checks (a sample index past the split, ...) are the user's to fix.
    if (err instanceof RangeError) throw new WorkbenchError(err.message);
    throw err;
  } finally {
    ctx.dispose();
  }
  finish(written, flags);
}

function finish(written: string[], flags: InspectFlags): void {
  if (!flags.json) process.stdout.write(`Wrote ${written.length} files:\n${written.map((f) => `  ${f}`).join('\n')}\n`);
}

export function registerInspect(program: Command): void {
  const command = program
    .command('inspect')
    .description('Inspect a run from a checkpoint: layer stats, gradient flow, contributions (paper Fig. 5), activation maps, layer ablation, evaluation.')
    .argument('<run>', 'a run folder, or the id or name of a run under --runs')
    .option('--checkpoint <name>', 'latest, best, or a checkpoint name', 'best')
    .option('--stats', 'feature-map statistics of every layer on a fixed validation batch')
    .option('--gradients', 'the gradient flow recorded during training (norms per layer over steps)')
    .option('--contributions', 'per-block contribution matrices (the paper\'s Fig. 5) as JSON and heat maps')
    .option('--activations <image>', 'top feature maps of every layer for an image file, or a validation sample index')
    .option('--ablation', 'validation accuracy with each dense layer\'s new feature maps zeroed, one at a time')
    .option('--evaluation', 'confusion matrix, per-class precision/recall and the most confident mistakes')
    .option('--backend <name>', `backend: ${BackendNameSchema.options.join(', ')}`, 'auto')
    .option('--out <dir>', 'where to write JSON and PNG files (default RUN/inspect)')
    .option('--json', 'print one JSON event per line instead of tables');
  addRunsOption(command).action((run: string, flags: InspectFlags) => runInspect(run, flags));
}
