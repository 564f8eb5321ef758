import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerEvent } from '../../../../shared/protocol';
import { initialRunState, replayRun, runFields } from '../../../../shared/run/state';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { writeRunReport } from '../../../../main/engine/report/write-report';
import { makeRun } from '../../../support/run-fixture';
import { tinyConfig } from '../../../support/tiny-models';

/**
 * The report counts epochs as every other view does: a user's run of 30 epochs showed "epoch 29"
 * in its report where the Dashboard and Runs said 30. Reproduced with 30 epochs of 2 steps, the
 * best validation accuracy at the last.
 */
let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'report-epochs-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function thirtyEpochs(runId: string): TrainerEvent[] {
  const events: TrainerEvent[] = [{ type: 'state', state: 'created', runId }, { type: 'state', state: 'running', runId }];
  for (let e = 0; e < 30; e++) {
    for (let k = 1; k <= 2; k++) {
      const step = 2 * e + k;
      events.push({ type: 'step', runId, step, epoch: e, epochStep: k, stepsPerEpoch: 2, loss: 1, accuracy: 0.5, lr: 0.1, imagesPerSec: 10, time: step });
    }
    events.push({ type: 'epoch', runId, epoch: e, step: 2 * e + 2, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5 + e / 100, lr: 0.1, seconds: 1, time: e });
  }
  events.push({ type: 'finished', runId, reason: 'completed', step: 60, epoch: 30, bestValAccuracy: 0.79, time: 99 });
  return events;
}

describe('the report', () => {
  it('says epoch 30 of a 30-epoch run, as the Runs list and the Dashboard do (their agreement: test/unit/engine/run/train-run.test.ts)', async () => {
    const config = tinyConfig({ inputShape: [8, 8, 1], classes: 3 });
    const model = buildDenseNet(config);
    const dir = makeRun(root, config, model, { events: thirtyEpochs('x'), epochs: 30 });
    model.dispose();
    const id = path.basename(dir);
    const events = thirtyEpochs(id);
    const shown = runFields(replayRun(initialRunState(id, 30), events));
    expect(shown.epoch).toBe(30);
    // The Dashboard's validation tile names the last epoch event's 0-based index + 1.
    const lastEpoch = events.filter((e) => e.type === 'epoch').at(-1) as { epoch: number };
    expect(lastEpoch.epoch + 1).toBe(30);
    const { html } = writeRunReport(dir);
    const page = fs.readFileSync(html, 'utf8');
    expect(page).toContain('<tr><th>Epochs / steps</th><td>30 / 60</td></tr>');
    expect(page).toMatch(/Best validation accuracy<\/th><td>79\.00% \(epoch 30, step 60\)/);
    expect(page).not.toMatch(/epoch 29\b/);
  });
});
