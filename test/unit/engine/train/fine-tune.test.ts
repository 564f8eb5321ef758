import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fineTuneLearningRate, fineTunePhase } from '../../../../main/engine/train/fine-tune';
import { getModelWeights, setModelWeights } from '../../../../main/engine/train/model-weights';
import { FineTuneSchema } from '../../../../shared/training';
import type { NamedArray } from '../../../../main/engine/runs/checkpoint';
import { MICRO_MODEL, tinySettings } from '../../../support/train-fixtures';
import { model, resumePoint, train } from '../../../support/train-harness';

/**
 * Two-phase fine-tuning inside one run: the classifier alone first (features and their batch-norm
 * statistics untouched), then every layer at a lower learning rate, the batch-norm statistics
 * updated or (freezeBatchNorm) kept, and an exact resume in either phase.
 */
beforeAll(async () => {
  await tf.setBackend('cpu');
});

const recipe = (o: Partial<ReturnType<typeof FineTuneSchema.parse>> = {}) => FineTuneSchema.parse({ headEpochs: 1, lrFactor: 0.1, ...o });
/** Names of the weights whose values differ; by name, since freezing reorders model.weights. */
const changed = (a: NamedArray[], b: NamedArray[]) => {
  const after = new Map(b.map((w) => [w.name, w]));
  return a.filter((w) => w.data.some((v, j) => v !== after.get(w.name)!.data[j])).map((w) => w.name);
};

describe('fine-tune phases', () => {
  it('gives the phase and learning rate of every step as pure functions', () => {
    const s = tinySettings({ epochs: 4, lr: 0.05, schedule: 'multistep', milestones: [0.5], gamma: 0.1, fineTune: recipe({ headEpochs: 2 }) });
    expect([0, 1, 2, 3].map((e) => fineTunePhase(e, s))).toEqual(['head', 'head', 'all', 'all']);
    // Phase 1 at the run's lr; phase 2 at lr × 0.1, whose multistep milestone is half of its own 2 epochs.
    expect([0, 9, 10, 14, 15, 19].map((step) => fineTuneLearningRate(step, 5, s))).toEqual([0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005].map((v) => expect.closeTo(v, 12)));
    expect(fineTunePhase(0, { fineTune: null })).toBeNull();
  });

  it('trains only the classifier in phase 1, then every layer; with freezeBatchNorm the batch-norm statistics are kept', async () => {
    const s = tinySettings({ epochs: 2, fineTune: recipe({ freezeBatchNorm: true }) });
    const m = model(s, MICRO_MODEL);
    const start = getModelWeights(m);
    const run = await train(s, { m, keepModel: true });
    expect(run.result.reason).toBe('completed');
    const afterHead = run.checkpoints.find((c) => c.reason === 'epoch' && c.epoch === 1)!.weights;
    // After epoch 1 only the classifier has moved: not one feature weight, not one BN statistic.
    expect(changed(start, afterHead).sort()).toEqual(['predictions/bias', 'predictions/kernel']);
    const end = getModelWeights(m);
    const moved = changed(afterHead, end);
    expect(moved).toContain('conv1_conv/kernel');
    expect(moved).toContain('conv2_block1_0_bn/gamma');
    expect(moved.filter((n) => /moving_(mean|variance)$/.test(n))).toEqual([]);
    // Every checkpoint holds a slot for every weight that can train, whichever phase wrote it.
    const trainable = start.filter((w) => !/moving_/.test(w.name)).length;
    for (const c of run.checkpoints) expect(c.slots).toHaveLength(trainable);
    m.dispose();
  });

  it('updates the batch-norm statistics in phase 2 by default', async () => {
    const s = tinySettings({ epochs: 2, fineTune: recipe() });
    const run = await train(s, { m: model(s, MICRO_MODEL) });
    const afterHead = run.checkpoints.find((c) => c.reason === 'epoch' && c.epoch === 1)!.weights;
    const end = run.checkpoints.at(-1)!.weights;
    expect(changed(afterHead, end)).toContain('conv2_block1_0_bn/moving_mean');
  });

  it('resumes in either phase with exactly the losses of a run that never stopped', async () => {
    const s = tinySettings({ epochs: 3, fineTune: recipe() });
    const straight = await train(s, { m: model(s, MICRO_MODEL) });
    const spe = straight.losses.length / 3;
    for (const stopAt of [2, spe, spe + 2]) {
      const first = await train(s, { m: model(s, MICRO_MODEL), onStep: (step, control) => { if (step === stopAt) control.stop(); } });
      const saved = first.checkpoints.at(-1)!;
      const fresh = model({ ...s, seed: 99 }, MICRO_MODEL);
      setModelWeights(fresh, saved.weights);
      const resumed = await train(s, { m: fresh, resume: resumePoint(saved) });
      expect([...first.losses.slice(0, stopAt), ...resumed.losses], `stopped at step ${stopAt}`).toEqual(straight.losses);
    }
  });
});
