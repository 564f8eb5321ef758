import { describe, expect, it } from 'vitest';
import { TrainerCommandSchema, TrainerEventSchema } from '../../../shared/protocol';

describe('protocol', () => {
  it('accepts a well-formed step event and rejects a NaN loss', () => {
    const ok = { type: 'step', runId: 'r', step: 1, epoch: 0, epochStep: 1, stepsPerEpoch: 10, loss: 2.3, accuracy: 0.1, lr: 0.1, imagesPerSec: 50, time: 0 };
    expect(TrainerEventSchema.safeParse(ok).success).toBe(true);
    expect(TrainerEventSchema.safeParse({ ...ok, loss: Number.NaN }).success).toBe(false);
  });
  it('rejects unknown command types', () => {
    const r = TrainerCommandSchema.safeParse({ type: 'rm -rf' });
    expect(r.success).toBe(false);
  });
});
