import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainControl } from '../../../../main/engine/train/control';
import { setModelWeights } from '../../../../main/engine/train/model-weights';
import { MICRO_MODEL, tinySettings } from '../../../support/train-fixtures';
import { model, resumePoint, train } from '../../../support/train-harness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('stop, pause and resume', () => {
  it('stop then resume gives exactly the losses of a run that never stopped, mid-epoch and at an epoch end', async () => {
    // The micro net has every kind of state that must survive (BN statistics, dropout, transitions).
    const config = { ...MICRO_MODEL, dropRate: 0.2 };
    // 2 epochs of 6 steps; multistep drops the rate at epoch 1, so the resumed rate matters too.
    const s = tinySettings({ epochs: 2, augment: { padCrop: true, flip: true }, schedule: 'multistep' });
    const straight = await train(s, { m: model(s, config) });
    for (const stopAt of [4, 6]) {
      const first = await train(s, { m: model(s, config), onStep: (step, control) => { if (step === stopAt) control.stop(); } });
      expect(first.result.reason).toBe('stopped');
      const saved = first.checkpoints.at(-1)!;
      expect(saved.reason).toBe('stop');
      // Stopping on an epoch's last step still ends that epoch (validation, epoch checkpoint) first.
      expect([saved.epoch, saved.epochStep]).toEqual(stopAt === 6 ? [1, 0] : [0, 4]);
      // A fresh model with other initial weights: everything must come from the checkpoint.
      const fresh = model({ ...s, seed: 99 }, config);
      setModelWeights(fresh, saved.weights);
      const resumed = await train(s, { m: fresh, resume: resumePoint(saved) });
      expect(resumed.result.reason).toBe('completed');
      expect([...first.losses.slice(0, stopAt), ...resumed.losses]).toEqual(straight.losses);
    }
  });

  it('pauses between steps, snapshots while paused, resumes and stops', async () => {
    const s = tinySettings({ epochs: 2 });
    const control = new TrainControl();
    const states: string[] = [];
    control.onChange((state) => {
      states.push(state);
      if (state === 'paused') {
        setTimeout(() => control.requestSnapshot(), 5);
        setTimeout(() => control.resume(), 20);
      }
    });
    const rec = await train(s, {
      m: model(s, MICRO_MODEL),
      control,
      onStep: (step, c) => {
        if (step === 2) c.pause();
        if (step === 4) c.stop();
      },
    });
    expect(states).toEqual(['paused', 'running']);
    expect(rec.losses).toHaveLength(4);
    expect(rec.result).toMatchObject({ reason: 'stopped', step: 4, epoch: 0 });
    expect(rec.checkpoints.map((c) => [c.reason, c.step])).toEqual([['snapshot', 2], ['stop', 4]]);
  });

  it('stops early when the validation metric stops improving', async () => {
    const s = tinySettings({ epochs: 6, lr: 1e-9, schedule: 'constant', earlyStopping: { metric: 'valLoss', patience: 1, minDelta: 0.5 } });
    const rec = await train(s, { m: model(s, MICRO_MODEL) });
    expect(rec.result.reason).toBe('early-stopped');
    expect(rec.result.epoch).toBe(2);
  });
});
