import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { writeRunReport } from '../../../../main/engine/report/write-report';
import { metricsCsv, METRICS_CSV_COLUMNS } from '../../../../main/engine/report/csv';
import type { TrainerEvent } from '../../../../shared/protocol';
import { tinyConfig } from '../../../support/tiny-models';
import { makeRun } from '../../../support/run-fixture';

const config = tinyConfig();
const classes = ['<script>alert(1)</script>', 'dog', 'emu'];
let root: string;
let runDir: string;

function events(): TrainerEvent[] {
  const runId = 'x';
  const out: TrainerEvent[] = [];
  for (let step = 0; step < 4; step++) {
    out.push({ type: 'step', runId, step, epoch: step >> 1, epochStep: step % 2, stepsPerEpoch: 2, loss: 2 - step * 0.25, accuracy: 0.25 * step, lr: 0.1, imagesPerSec: 8.5, time: step });
  }
  out.push({ type: 'epoch', runId, epoch: 0, step: 2, loss: 1.6, accuracy: 0.3, valLoss: 1.7, valAccuracy: 0.25, lr: 0.1, seconds: 2, time: 2 });
  out.push({ type: 'epoch', runId, epoch: 1, step: 4, loss: 1.1, accuracy: 0.6, valLoss: null, valAccuracy: null, lr: 0.01, seconds: 2, time: 4 });
  out.push({
    type: 'contributions', runId, step: 4, epoch: 1, time: 5,
    blocks: [{ block: 1, sources: ['input', 'L1', 'L2'], targets: ['L1', 'L2', 'T1'], values: [[0.5, null, null], [0.25, 0.75, null], [0.1, 0.2, 0.9]] }],
  });
  out.push({
    type: 'evaluation', runId, step: 4, classes, accuracy: 0.625, time: 6,
    confusion: [[3, 1, 0], [0, 2, 1], [1, 0, 0]],
    perClass: [{ precision: 0.75, recall: 0.75, accuracy: 0.8, support: 4 }, { precision: 0.66, recall: 0.66, accuracy: 0.8, support: 3 }, { precision: 0, recall: 0, accuracy: 0.8, support: 1 }],
    misclassified: [],
  });
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'report-'));
  const model = buildDenseNet(config);
  runDir = makeRun(root, config, model, { events: events(), classes });
  model.dispose();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('report RUN', () => {
  it('writes a self-contained HTML report with every section', () => {
    const { html, csv } = writeRunReport(runDir, path.join(root, 'out', 'r.html'));
    expect(path.basename(csv)).toBe('r.csv');
    const page = fs.readFileSync(html, 'utf8');
    // Self-contained: no external resource of any kind, no script at all.
    expect(page).not.toMatch(/<script|<link|\bsrc=|https?:\/\//i);
    for (const section of ['Final metrics', 'Curves', 'Confusion matrix', 'Architecture', 'Contribution heat maps', 'Config']) {
      expect(page).toContain(`<h2>${section}`);
    }
    expect(page.match(/<svg class="chart"/g)).toHaveLength(3); // loss, accuracy, learning rate
    expect(page).toContain('aria-label="Dense block 1"');
    expect(page).toContain('Accuracy 62.50% at step 4');
    expect(page).toContain('75.00%'); // final validation accuracy from summary.json
    // Epochs as the Runs list and the Dashboard count them, and the best epoch counted from 1.
    expect(page).toContain('<th>Epochs / steps</th><td>2 / 4</td>');
    expect(page).toContain('<th>Best validation accuracy</th><td>25.00% (epoch 1, step 2)</td>');
    // A class name is data, never markup.
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&quot;growthRate&quot;: 4');
  });

  it('writes every step and epoch scalar to the CSV', () => {
    const { csv } = writeRunReport(runDir, path.join(root, 'csv-check.html'));
    const lines = fs.readFileSync(csv, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe(METRICS_CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(1 + 4 + 2);
    const row = (i: number) => Object.fromEntries(lines[0].split(',').map((k, j) => [k, lines[i].split(',')[j]]));
    expect(row(1)).toMatchObject({ type: 'step', step: '0', loss: '2', accuracy: '0', lr: '0.1', valLoss: '' });
    expect(row(6)).toMatchObject({ type: 'epoch', step: '4', epoch: '1', valAccuracy: '', seconds: '2' });
  });

  it('quotes CSV cells that need it', () => {
    const text = metricsCsv([{ type: 'step', runId: 'r', step: 1, epoch: 0, epochStep: 1, stepsPerEpoch: 1, loss: Number.NaN, accuracy: 1, lr: 0.1, imagesPerSec: 1, time: 1 }] as TrainerEvent[]);
    expect(text.split('\r\n')[1]).toBe('step,1,0,1,1,,1,,,0.1,1,,1');
  });

  it('names an unwritable report path', () => {
    const file = path.join(root, 'plain-file');
    fs.writeFileSync(file, '');
    expect(() => writeRunReport(runDir, path.join(file, 'report.html'))).toThrow(/Cannot write .*plain-file\/report.html: a part of the path is a file, not a folder/);
    expect(() => writeRunReport(runDir, path.join(root, 'report.txt'))).toThrow(/must end in .html/);
  });
});
