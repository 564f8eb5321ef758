import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy } from '../../../../main/engine/train/loss';
import { Optimizer, type OptimizerSettings } from '../../../../main/engine/train/optimizers';
import { learningRateAt, type ScheduleSettings } from '../../../../main/engine/train/schedules';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const W0 = [1, -2, 0.5];
const GRADS = [[0.5, 0.5, -1], [0.25, -0.75, 0.1], [-0.4, 0.2, 0.3]];
const LRS = [0.1, 0.1, 0.05];

/** Runs our optimizer for three steps on one variable and returns its values after each step. */
function ours(settings: OptimizerSettings): number[][] {
  const v = tf.variable(tf.tensor1d(W0));
  const opt = new Optimizer(settings, [{ name: 'w', variable: v }]);
  const out: number[][] = [];
  GRADS.forEach((g, i) => {
    const grad = tf.tensor1d(g);
    opt.apply({ w: grad }, LRS[i]);
    grad.dispose();
    out.push(Array.from(v.dataSync()));
  });
  opt.dispose();
  v.dispose();
  return out;
}

const base: OptimizerSettings = { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

function expectClose(actual: number[][], expected: number[][]): void {
  actual.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 6)));
}

describe('optimizers against the update rules of torch.optim, computed by hand', () => {
  it('SGD with Nesterov momentum and L2 weight decay', () => {
    // First step worked out on paper for w[0]: g' = 0.5 + 0.01·1 = 0.51; b = 0.51;
    // d = 0.51 + 0.9·0.51 = 0.969; w = 1 − 0.1·0.969 = 0.9031.
    const w = [...W0];
    const buf = [0, 0, 0];
    const expected: number[][] = [];
    GRADS.forEach((g, i) => {
      for (let j = 0; j < 3; j++) {
        const gj = g[j] + 0.01 * w[j];
        buf[j] = 0.9 * buf[j] + gj;
        w[j] -= LRS[i] * (gj + 0.9 * buf[j]);
      }
      expected.push([...w]);
    });
    const actual = ours(base);
    expect(actual[0][0]).toBeCloseTo(0.9031, 6);
    expectClose(actual, expected);
  });

  it('SGD with classic momentum and no decay matches tf.train.momentum', () => {
    const settings = { ...base, nesterov: false, weightDecay: 0 };
    // tfjs' own momentum optimizer implements the same rule; compare the first step with it…
    const v = tf.variable(tf.tensor1d(W0));
    const reference = tf.train.momentum(LRS[0], 0.9);
    const grad = tf.tensor1d(GRADS[0]);
    reference.applyGradients([{ name: v.name, tensor: grad }]);
    expectClose([ours(settings)[0]], [Array.from(v.dataSync())]);
    reference.dispose();
    tf.dispose([v, grad]);
    // …and all three against the rule: b ← μb + g; w ← w − ηb.
    const w = [...W0];
    const buf = [0, 0, 0];
    const rule = GRADS.map((g, i) => w.map((_, j) => {
      buf[j] = 0.9 * buf[j] + g[j];
      return (w[j] -= LRS[i] * buf[j]);
    }));
    expectClose(ours(settings), rule);
  });

  it('Adam with L2 decay, and AdamW with decoupled decay', () => {
    for (const name of ['adam', 'adamw'] as const) {
      const w = [...W0];
      const m = [0, 0, 0];
      const v = [0, 0, 0];
      const expected = GRADS.map((g, i) => {
        const t = i + 1;
        const lr = LRS[i];
        return w.map((_, j) => {
          const gj = name === 'adam' ? g[j] + 0.01 * w[j] : g[j];
          if (name === 'adamw') w[j] *= 1 - lr * 0.01;
          m[j] = 0.9 * m[j] + 0.1 * gj;
          v[j] = 0.999 * v[j] + 0.001 * gj * gj;
          const mHat = m[j] / (1 - 0.9 ** t);
          const vHat = v[j] / (1 - 0.999 ** t);
          return (w[j] -= (lr * mHat) / (Math.sqrt(vHat) + 1e-8));
        });
      });
      expectClose(ours({ ...base, name }), expected);
    }
  });

  it('saves and restores its state exactly, so a restored optimizer takes the same next step', () => {
    const make = () => tf.variable(tf.tensor1d(W0));
    const a = make();
    const optA = new Optimizer(base, [{ name: 'w', variable: a }]);
    const g0 = tf.tensor1d(GRADS[0]);
    const g1 = tf.tensor1d(GRADS[1]);
    optA.apply({ w: g0 }, 0.1);
    const saved = optA.getState();
    expect(saved.slots.map((s) => s.name)).toEqual(['w/momentum']);
    const b = tf.variable(a.clone());
    const optB = new Optimizer(base, [{ name: 'w', variable: b }]);
    optB.setState(saved);
    optA.apply({ w: g1 }, 0.1);
    optB.apply({ w: g1 }, 0.1);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(optB.iterations).toBe(2);
    expect(() => optB.setState({ iterations: 1, slots: [{ name: 'w/momentum', shape: [2], data: new Float32Array(2) }] }))
      .toThrow('The saved slot w/momentum has shape [2]; the model needs [3].');
    const adam = new Optimizer({ ...base, name: 'adam' }, [{ name: 'w', variable: b }]);
    expect(() => adam.setState(saved)).toThrow('The saved adam state has no slot w/m; it was saved for another model or optimizer.');
    for (const t of [g0, g1, a, b]) t.dispose();
    optA.dispose();
    optB.dispose();
    adam.dispose();
  });
});

describe('schedules at key steps', () => {
  const s = (over: Partial<ScheduleSettings>): ScheduleSettings => ({
    lr: 0.1, schedule: 'multistep', milestones: [0.5, 0.75], gamma: 0.1, stepEpochs: 3, warmupEpochs: 0, epochs: 10, ...over,
  });

  it('multistep: the paper recipe divides by 10 at 50% and 75% of the epochs, at epoch boundaries', () => {
    const at = (step: number) => learningRateAt(step, 5, s({}));
    expect([at(0), at(24), at(25), at(39), at(40), at(49)]).toEqual([0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 ** 2, 0.1 * 0.1 ** 2]);
  });

  it('step: gamma every stepEpochs', () => {
    const at = (step: number) => learningRateAt(step, 4, s({ schedule: 'step', gamma: 0.5 }));
    expect([at(0), at(11), at(12), at(24)]).toEqual([0.1, 0.1, 0.05, 0.025]);
  });

  it('cosine, with and without linear warm-up', () => {
    const cos = (step: number) => learningRateAt(step, 10, s({ schedule: 'cosine' }));
    expect(cos(0)).toBe(0.1);
    expect(cos(50)).toBeCloseTo(0.05, 12);
    expect(cos(99)).toBeCloseTo((0.1 * (1 + Math.cos((Math.PI * 99) / 100))) / 2, 12);
    const warm = (step: number) => learningRateAt(step, 10, s({ schedule: 'cosine', warmupEpochs: 1 }));
    expect([warm(0), warm(4), warm(9), warm(10)].map((x) => +x.toFixed(12))).toEqual([0.01, 0.05, 0.1, 0.1]);
    expect(warm(55)).toBeCloseTo(0.05, 12);
  });

  it('one-cycle: from lr/25 up to lr at 30%, then down to lr/25e4', () => {
    const one = (step: number) => learningRateAt(step, 10, s({ schedule: 'onecycle', warmupEpochs: 5 }));
    expect(one(0)).toBeCloseTo(0.004, 12);
    expect(one(29)).toBeCloseTo(0.1, 12);
    expect(one(99)).toBeCloseTo(0.004 / 1e4, 12);
    expect(one(14)).toBeGreaterThan(0.004);
    expect(one(14)).toBeLessThan(0.1);
  });

  it('constant; and bad arguments are named', () => {
    expect(learningRateAt(1234, 7, s({ schedule: 'constant' }))).toBe(0.1);
    expect(() => learningRateAt(-1, 7, s({}))).toThrow('A schedule step must be an integer ≥ 0; got -1.');
    expect(() => learningRateAt(0, 0, s({}))).toThrow('Steps per epoch must be an integer ≥ 1; got 0.');
  });
});

describe('loss', () => {
  it('cross-entropy with label smoothing matches the formula', () => {
    const logits = tf.tensor2d([[2, 0, -1], [0.5, 0.5, 3]]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const eps = 0.1;
    const expected = [[2, 0, -1], [0.5, 0.5, 3]].map((row, i) => {
      const lse = Math.log(row.reduce((a, x) => a + Math.exp(x), 0));
      const label = [0, 2][i];
      return row.reduce((a, x, k) => a - ((k === label ? 1 - eps : 0) + eps / 3) * (x - lse), 0);
    });
    expect(crossEntropy(logits, labels, 3, eps).dataSync()[0]).toBeCloseTo((expected[0] + expected[1]) / 2, 5);
    expect(crossEntropy(logits, labels, 3, 0).dataSync()[0]).toBeCloseTo(
      (-(2 - Math.log(Math.exp(2) + 1 + Math.exp(-1))) - (3 - Math.log(2 * Math.exp(0.5) + Math.exp(3)))) / 2, 5,
    );
    tf.dispose([logits, labels]);
  });
});
