import type { TrainerEvent, TrainerEventOf } from '../../../shared/protocol';
import { stageDerivations, summarize } from '../../../shared/architecture';
import { MISSING, duration, fixed, formatCount, formatLr, formatVolume, percent } from '../../../shared/format';
import { epochNumber, statusLabel } from '../../../shared/run/lifecycle';
import { initialRunState, replayRun, runFields, type RunState } from '../../../shared/run/state';
import { stateOfStatusFile, type RunConfigFile, type RunStatusFile, type RunSummaryFile } from '../runs/run-store';
import { escapeXml as esc, heatMap, lineChart } from './svg';

/**
 * The run report: one self-contained HTML file (inline CSS and SVG, no script, no network) with the
 * curves, final metrics, confusion matrix, architecture summary, contribution heat maps (the paper's
 * Figure 5) and the full config. It renders from the run folder's files alone.
 */
export interface ReportInput {
  config: RunConfigFile;
  status: RunStatusFile | null;
  summary: RunSummaryFile | null;
  events: TrainerEvent[];
  /** Lines of metrics.jsonl that failed their checksum (reported, not hidden). */
  skippedLines: number;
  generated: Date;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f5f5f5}
td:first-child,th:first-child{text-align:left}.muted{color:#777}.charts{display:flex;flex-wrap:wrap;gap:12px}
svg text{font:10px system-ui,sans-serif;fill:#333}svg text.axis{font-size:11px;fill:#555}svg text.chart-title{font-size:13px;font-weight:600;fill:#222}svg .grid{stroke:#e5e5e5}svg{max-width:100%;height:auto}pre{background:#f7f7f7;padding:10px;overflow:auto;font-size:12px}
.heats{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}figure{margin:0}figcaption{font-size:12px;color:#555}`;

const pct = (v: number | null | undefined) => percent(v, 2);
const num = (v: number | null | undefined) => fixed(v, 4);

export function renderReport(input: ReportInput): string {
  const { config } = input;
  // Where the run stands, as the Runs list and the Dashboard have it (shared/run/state.ts).
  const state = input.status ? stateOfStatusFile(config.id, input.status, config.settings.epochs) : replayRun(initialRunState(config.id, config.settings.epochs), input.events);
  const steps = input.events.filter((e): e is TrainerEventOf<'step'> => e.type === 'step');
  const epochs = input.events.filter((e): e is TrainerEventOf<'epoch'> => e.type === 'epoch');
  const evaluation = last(input.events.filter((e): e is TrainerEventOf<'evaluation'> => e.type === 'evaluation'));
  const contributions = last(input.events.filter((e): e is TrainerEventOf<'contributions'> => e.type === 'contributions'));
  const title = `${config.name} — DenseNet Workbench report`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${CSS}</style></head><body>
<h1>${esc(config.name)}</h1>
<p class="muted">Run ${esc(config.id)} · ${esc(config.model.variant)} on ${esc(config.dataset.name)} · created ${esc(config.created)} · status ${esc(input.status ? statusLabel(state.status, state.reason) : 'unknown')} · report generated ${esc(input.generated.toISOString())}</p>
${finalMetrics(input, state, epochs)}
<h2>Curves</h2>${curves(steps, epochs)}
<h2>Confusion matrix</h2>${confusion(evaluation)}
<h2>Architecture</h2>${architecture(config)}
<h2>Contribution heat maps (paper Figure 5)</h2>${heatMaps(contributions)}
<h2>Config</h2><pre>${esc(JSON.stringify({ model: config.model, settings: config.settings, dataset: config.dataset, normalization: config.normalization, seed: config.seed, versions: config.versions, backend: config.backend }, null, 2))}</pre>
${input.skippedLines ? `<p class="muted">${input.skippedLines} line(s) of metrics.jsonl failed their checksum and were left out.</p>` : ''}
</body></html>
`;
}

function last<T>(xs: T[]): T | undefined {
  return xs[xs.length - 1];
}

function finalMetrics(input: ReportInput, state: RunState, epochs: TrainerEventOf<'epoch'>[]): string {
  const lastEpoch = last(epochs);
  const s = input.summary;
  const fields = runFields(state);
  const best = state.best;
  const rows: [string, string][] = [
    ['Finished', s ? `${s.reason} at ${s.finished}` : 'not finished'],
    ['Epochs / steps', `${fields.epoch} / ${fields.step}`],
    ['Final train loss / accuracy', `${num(s?.last.loss ?? lastEpoch?.loss)} / ${pct(s?.last.accuracy ?? lastEpoch?.accuracy)}`],
    ['Final validation loss / accuracy', `${num(s?.last.valLoss ?? lastEpoch?.valLoss)} / ${pct(s?.last.valAccuracy ?? lastEpoch?.valAccuracy)}`],
    // `best.epoch` is the 0-based index events carry; people count epochs from 1.
    ['Best validation accuracy', best ? `${pct(best.valAccuracy)} (epoch ${epochNumber(best.epoch)}, step ${best.step})` : MISSING],
    ['Final learning rate', lastEpoch ? formatLr(lastEpoch.lr) : MISSING],
    ['Training time', s ? duration(s.seconds) : MISSING],
  ];
  return `<h2>Final metrics</h2><table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function curves(steps: TrainerEventOf<'step'>[], epochs: TrainerEventOf<'epoch'>[]): string {
  if (steps.length === 0 && epochs.length === 0) return '<p class="muted">No step or epoch events in metrics.jsonl.</p>';
  const byStep = <T>(xs: T[], f: (x: T) => number | null, s: (x: T) => number) =>
    xs.filter((x) => f(x) !== null).map((x) => [s(x), f(x) as number] as [number, number]);
  const integerX = { integerX: true };
  const loss = lineChart('Loss', 'step', [
    { label: 'train (step)', color: '#9ab', points: byStep(steps, (e) => e.loss, (e) => e.step) },
    { label: 'train (epoch)', color: '#1f5fa8', points: byStep(epochs, (e) => e.loss, (e) => e.step) },
    { label: 'validation', color: '#d9534f', points: byStep(epochs, (e) => e.valLoss, (e) => e.step), dashed: true },
  ], integerX);
  const acc = lineChart('Accuracy', 'step', [
    { label: 'train (step)', color: '#9ab', points: byStep(steps, (e) => e.accuracy, (e) => e.step) },
    { label: 'train (epoch)', color: '#1f5fa8', points: byStep(epochs, (e) => e.accuracy, (e) => e.step) },
    { label: 'validation', color: '#d9534f', points: byStep(epochs, (e) => e.valAccuracy, (e) => e.step), dashed: true },
  ], integerX);
  const lrSource = steps.length ? byStep(steps, (e) => e.lr, (e) => e.step) : byStep(epochs, (e) => e.lr, (e) => e.step);
  const lr = lineChart('Learning rate', 'step', [{ label: 'learning rate', color: '#5cb85c', points: lrSource }], integerX);
  return `<div class="charts">${loss}${acc}${lr}</div>`;
}

function confusion(evaluation: TrainerEventOf<'evaluation'> | undefined): string {
  if (!evaluation) return '<p class="muted">No evaluation in this run’s metrics (run <code>densenet-workbench eval</code>, or Evaluate now on the Evaluation screen, then regenerate the report).</p>';
  const c = evaluation.classes;
  const matrix = heatMap('Confusion matrix (rows: actual, columns: predicted)', c, c, evaluation.confusion, { showValues: true, size: 420, rowAxis: 'actual', colAxis: 'predicted' });
  const perClass = `<table><tr><th>class</th><th>precision</th><th>recall</th><th>support</th></tr>${evaluation.perClass
    .map((p, i) => `<tr><td>${esc(c[i] ?? String(i))}</td><td>${pct(p.precision)}</td><td>${pct(p.recall)}</td><td>${p.support}</td></tr>`)
    .join('')}</table>`;
  const source = `${esc(evaluation.split ?? 'validation split')}, ${evaluation.checkpoint ? `checkpoint <code>${esc(evaluation.checkpoint)}</code>` : 'the live weights'}`;
  return `<p>Accuracy ${pct(evaluation.accuracy)} at step ${evaluation.step} (${source}); rows are the actual class, columns the predicted one.</p><figure>${matrix}</figure>${perClass}`;
}

function architecture(config: RunConfigFile): string {
  let s: ReturnType<typeof summarize>;
  try {
    s = summarize(config.model);
  } catch (err) {
    return `<p class="muted">No summary: ${esc((err as Error).message)}</p>`;
  }
  const m = config.model;
  const head = `<p>${esc(m.variant)}: blocks [${m.blocks.join(', ')}], growth rate k=${m.growthRate}, ${m.bottleneck ? 'bottleneck (B)' : 'no bottleneck'}, compression θ=${m.compression}, ${m.initFeatures} initial features, ${m.stem} stem, input ${formatVolume(m.inputShape)}, ${m.classes} classes.</p>`;
  const totals = `<table><tr><th>parameters</th><td>${formatCount(s.totals.params)}</td></tr><tr><th>trainable</th><td>${formatCount(s.totals.trainableParams)}</td></tr><tr><th>multiply-adds</th><td>${formatCount(s.totals.macs)}</td></tr></table>`;
  const derived = stageDerivations(s.config);
  const stages = `<table><tr><th>stage</th><th>layer</th><th>output (H×W×C)</th><th>channels</th><th>H×W</th></tr>${s.stages
    .map((st, i) => `<tr><td>${esc(st.label)}</td><td>${esc(st.layer)}</td><td>${esc(formatVolume(st.shape))}</td><td>${esc(derived[i].channels)}</td><td>${esc(derived[i].spatial ?? '')}</td></tr>`)
    .join('')}</table>`;
  return head + totals + stages;
}

function heatMaps(event: TrainerEventOf<'contributions'> | undefined): string {
  if (!event) return '<p class="muted">No contribution matrices in this run’s metrics.</p>';
  const maps = event.blocks.map((b) => {
    // Figure 5 puts the source layer on the vertical axis and the target layer on the horizontal one.
    const bySource = b.sources.map((_, s) => b.targets.map((_, t) => b.values[t]?.[s] ?? null));
    return `<figure>${heatMap(`Dense block ${b.block}`, b.sources, b.targets, bySource, { size: 280, rowAxis: 'source layer (s)', colAxis: 'target layer (ℓ)' })}<figcaption>Dense block ${b.block}: mean |w| from source (row) to target (column).</figcaption></figure>`;
  });
  return `<p>Step ${event.step}, epoch ${epochNumber(event.epoch)}.</p><div class="heats">${maps.join('')}</div>`;
}
