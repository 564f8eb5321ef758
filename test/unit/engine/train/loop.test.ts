import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetSource } from '../../../../main/engine/train/dataset-source';
import type { TrainData } from '../../../../main/engine/train/loop';
import type { TrainSettings } from '../../../../shared/training';
import { MICRO_MODEL, TINY_MODEL, syntheticDataset, tinySettings } from '../../../support/train-fixtures';
import { model, train } from '../../../support/train-harness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('training loop', () => {
  it('loss falls on a tiny dataset, and tensors do not leak across steps', async () => {
    const rec = await train(tinySettings({ epochs: 3, schedule: 'constant' }));
    expect(rec.result.reason).toBe('completed');
    expect(rec.losses).toHaveLength(18);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(rec.losses.slice(-4))).toBeLessThan(mean(rec.losses.slice(0, 4)) * 0.7);
    // After the first steps (tfjs caches a few kernels' constants), the count stays flat.
    expect(new Set(rec.tensorCounts.slice(2))).toEqual(new Set([rec.tensorCounts[2]]));
  });

  it('gives the same loss sequence for the same seed (with dropout and augmentation) and another for another seed', async () => {
    const config = { ...TINY_MODEL, dropRate: 0.2 };
    const s = tinySettings({ epochs: 1, augment: { padCrop: true, flip: true } });
    const run = async (settings: TrainSettings) => {
      return (await train(settings, { m: model(settings, config), onStep: (step, control) => { if (step === 3) control.stop(); } })).losses;
    };
    const a = await run(s);
    const b = await run(s);
    const c = await run({ ...s, seed: 4 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('updates the batch-norm moving statistics during training steps', async () => {
    const s = tinySettings({ epochs: 1, lr: 0.01, momentum: 0, nesterov: false, schedule: 'constant' });
    const m = model(s);
    const bn = m.getLayer('conv2_block1_0_bn');
    const movingMean = () => Array.from(bn.getWeights()[2].dataSync());
    expect(movingMean()).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // Expected after one step: momentum·0 + (1 − momentum)·(batch mean of the BN input), BN_MOMENTUM = 0.9.
    const data = datasetSource(syntheticDataset(), s, { mean: [0.3], std: [0.3] });
    const probe = tf.model({ inputs: m.inputs, outputs: m.getLayer('conv1_conv').output as tf.SymbolicTensor });
    const rngBefore = data.rngState();
    let expected: number[] = [];
    for await (const batch of data.trainBatches(0, 0)) {
      expected = tf.tidy(() => Array.from(tf.mean(probe.predict(tf.tensor4d(batch.x, [batch.n, 8, 8, 1])) as tf.Tensor, [0, 1, 2]).mul(0.1).dataSync()));
      break;
    }
    data.setRngState(rngBefore);
    await train(s, { m, keepModel: true, data, onStep: (step, control) => { if (step === 1) control.stop(); } });
    const after = movingMean();
    after.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(after.some((v) => Math.abs(v) > 1e-4)).toBe(true);
    m.dispose();
  });

  it('stops on a NaN loss, names the step, suggests a lower rate, and never updates with it', async () => {
    const s = tinySettings({ epochs: 1 });
    const inner = datasetSource(syntheticDataset(), s, null);
    const poisoned: TrainData = {
      ...inner,
      async *trainBatches(epoch, skip) {
        let i = skip;
        for await (const b of inner.trainBatches(epoch, skip)) {
          if (++i === 3) b.x[0] = NaN;
          yield b;
        }
      },
    };
    const m = model(s, MICRO_MODEL);
    const rec = await train(s, { m, keepModel: true, data: poisoned });
    expect(rec.result.reason).toBe('diverged');
    expect(rec.result.step).toBe(2);
    expect(rec.result.message).toMatch(/The loss became NaN at step 3 \(epoch 1\) with learning rate 0\.05.*Try a lower learning rate \(e\.g\. 0\.005\)/);
    expect(rec.checkpoints).toEqual([]);
    for (const w of m.getWeights()) expect(Array.from(w.dataSync()).every(Number.isFinite)).toBe(true);
    m.dispose();
  });

  it('hands gradients of every trainable variable to the hook every K steps', async () => {
    const s = tinySettings({ epochs: 1, gradientsEvery: 2 });
    const seen: { step: number; names: string[]; finite: boolean }[] = [];
    await train(s, {
      m: model(s, MICRO_MODEL),
      hooks: {
        onGradients: (step, grads, variables) => {
          seen.push({ step, names: Object.keys(grads).sort(), finite: Object.values(grads).every((g) => Number.isFinite(g.norm().dataSync()[0])) });
          expect(variables.map((v) => v.name).sort()).toEqual(Object.keys(grads).sort());
        },
      },
    });
    expect(seen.map((x) => x.step)).toEqual([1, 3, 5]);
    expect(seen[0].names).toContain('conv1_conv/kernel');
    expect(seen[0].names).toContain('predictions/bias');
    expect(seen[0].names).not.toContain('bn/moving_mean');
    expect(seen.every((x) => x.finite)).toBe(true);
  });
});
