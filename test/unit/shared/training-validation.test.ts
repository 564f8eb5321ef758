import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultTrainSettings } from '../../../shared/training';
import { describeNumber, validateSettings } from '../../../shared/training-validation';

const base = defaultTrainSettings();
const messages = (over: Record<string, unknown>) => validateSettings({ ...base, ...over }).map((p) => `${p.field}: ${p.message}`);

describe('validateSettings', () => {
  it('accepts the defaults (the paper’s recipe) and partial settings the host completes', () => {
    expect(validateSettings(base)).toEqual([]);
    expect(validateSettings({ epochs: 3 })).toEqual([]);
  });

  it('names the field, the value and the accepted range, read from the schema', () => {
    expect(messages({ epochs: -1 })).toEqual(['epochs: Epochs must be a whole number from 1 to 100,000; got -1.']);
    expect(messages({ epochs: 2.5 })).toEqual(['epochs: Epochs must be a whole number from 1 to 100,000; got 2.5.']);
    expect(messages({ batchSize: Number.NaN })).toEqual(['batchSize: Batch size must be a whole number from 1 to 4096; got nothing.']);
    expect(messages({ lr: 0 })).toEqual(['lr: Learning rate must be a number in (0, 10]; got 0.']);
    expect(messages({ valFraction: 1 })).toEqual(['valFraction: Validation fraction must be a number in [0, 1); got 1.']);
    expect(messages({ statsEvery: -2 })).toEqual(['statsEvery: Layer stats every N steps must be a whole number ≥ 0; got -2.']);
    expect(messages({ optimizer: 'lion' })).toEqual(['optimizer: Optimizer must be one of sgd, adam, adamw; got "lion".']);
    expect(messages({ milestones: [0.5, 2] })).toEqual(['milestones: Milestones (fractions of the epochs) must be a list of numbers, each in (0, 1); got [0.5,2].']);
    expect(messages({ augment: { flip: 'yes' } })[0]).toMatch(/^augment: Augmentation must be two switches, \{padCrop, flip\}; got /);
  });

  it('checks the fine-tune recipe field by field, and its classifier-only epochs against the run’s', () => {
    const ft = { headEpochs: 2, lrFactor: 0.1, freezeBatchNorm: false };
    expect(validateSettings({ ...base, fineTune: ft })).toEqual([]);
    expect(messages({ fineTune: { ...ft, headEpochs: -1 } })).toEqual(['fineTune.headEpochs: Classifier-only epochs must be a whole number from 0 to 100,000; got -1.']);
    expect(messages({ fineTune: { ...ft, lrFactor: 2 } })).toEqual(['fineTune.lrFactor: The learning-rate factor after unfreezing must be a number in (0, 1]; got 2.']);
    expect(messages({ epochs: 3, fineTune: { ...ft, headEpochs: 5 } })).toEqual(['fineTune.headEpochs: Classifier-only epochs must be at most the 3 epochs of the run; got 5.']);
  });

  it('reports every bad field at once, one sentence each', () => {
    expect(messages({ epochs: 0, momentum: 2, seed: -1 })).toEqual([
      'epochs: Epochs must be a whole number from 1 to 100,000; got 0.',
      'momentum: Momentum must be a number in [0, 0.9999]; got 2.',
      'seed: Seed must be a whole number from 0 to 2,147,483,647; got -1.',
    ]);
  });

  it('describes open, closed and one-sided ranges as the schema checks them', () => {
    expect(describeNumber(z.number().int().min(1).max(5))).toBe('a whole number from 1 to 5');
    expect(describeNumber(z.number().int().gt(0).lt(5))).toBe('a whole number from 1 to 4');
    expect(describeNumber(z.number().int().min(0))).toBe('a whole number ≥ 0');
    expect(describeNumber(z.number().gt(0).max(10))).toBe('in (0, 10]');
    expect(describeNumber(z.number().min(0).lt(1))).toBe('in [0, 1)');
    expect(describeNumber(z.number().gt(0))).toBe('> 0');
    expect(describeNumber(z.number())).toBe('a number');
  });
});
