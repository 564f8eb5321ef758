import { describe, expect, it } from 'vitest';
import { stepMemory } from '../../../shared/architecture/memory';
import { getPreset } from '../../../shared/presets';
import { largestBatch, ModelTooLargeError, planTrainingMemory, usableHeap, type MemoryPlanRequest } from '../../../shared/memory-plan';

const GiB = 2 ** 30;
const WASM32 = 4294901760;
const dn121 = getPreset('densenet121', { inputShape: [224, 224, 3], classes: 1000 });
const request = (over: Partial<MemoryPlanRequest>): MemoryPlanRequest => ({
  config: dn121, batch: 32, optimizer: 'sgd', heapLimitBytes: WASM32, memoryEfficient: 'auto', microBatch: 0, ...over,
});

describe('the step memory estimate', () => {
  it("counts every layer's output for the plain path: DenseNet-121 at 224x224 holds 190 MiB an image", () => {
    const m = stepMemory(dn121);
    expect(m.plainPerImage / 2 ** 20).toBeCloseTo(190.45, 1);
    // Parameters plus the BN moving statistics: torchvision's 7,978,856 trainable, 83,648 statistics.
    expect(m.weightFloats).toBe(7_978_856 + 83_648);
    expect(m.efficientPerImage).toBeLessThan(0.3 * m.plainPerImage);
  });
});

describe('the memory planner', () => {
  it('keeps the plain dense layers where they fit and says nothing', () => {
    const plan = planTrainingMemory(request({ batch: 16 }));
    expect(plan).toMatchObject({ memoryEfficient: false, microBatch: 16, notes: [] });
    expect(plan.peakBytes).toBeLessThan(usableHeap(WASM32));
  });

  it('turns memory-efficient dense layers on where the plain ones would not fit (DenseNet-121, batch 32), and says why', () => {
    const plan = planTrainingMemory(request({}));
    expect(plan.memoryEfficient).toBe(true);
    expect(plan.microBatch).toBe(32);
    expect(plan.plainPeakBytes).toBeGreaterThan(5 * GiB);
    expect(plan.peakBytes).toBeLessThan(3 * GiB);
    expect(plan.notes).toHaveLength(1);
    expect(plan.notes[0]).toMatch(/^Memory-efficient dense layers are on: a plain step of densenet121 at 224×224×3 with batch 32 needs about 6\.\d\d GiB of wasm heap/);
  });

  it('honours on and off, and micro-batches the plain layers when they are off and do not fit', () => {
    expect(planTrainingMemory(request({ batch: 4, memoryEfficient: 'on' }))).toMatchObject({ memoryEfficient: true, microBatch: 4, notes: [] });
    const off = planTrainingMemory(request({ memoryEfficient: 'off' }));
    expect(off.memoryEfficient).toBe(false);
    expect(off.microBatch).toBe(largestBatch(dn121, 'sgd', WASM32, false));
    expect(off.microBatch).toBeGreaterThan(8);
    expect(off.notes[0]).toMatch(/^Micro-batching is on: .* with plain dense layers \(memory-efficient ones are off\)/);
  });

  it('micro-batches as the last resort, and uses an asked-for micro-batch that fits', () => {
    const plan = planTrainingMemory(request({ batch: 256 }));
    expect(plan.memoryEfficient).toBe(true);
    expect(plan.microBatch).toBe(largestBatch(dn121, 'sgd', WASM32, true));
    expect(plan.peakBytes).toBeLessThanOrEqual(usableHeap(WASM32));
    const asked = planTrainingMemory(request({ batch: 64, microBatch: 16 }));
    expect(asked).toMatchObject({ memoryEfficient: false, microBatch: 16 });
    expect(asked.notes[0]).toMatch(/^Micro-batching is on \(asked for\)/);
  });

  it('refuses what cannot fit at all, naming the model, input, batch, heap needed and what would fit', () => {
    expect(() => planTrainingMemory(request({ heapLimitBytes: 96 * 2 ** 20 }))).toThrow(ModelTooLargeError);
    expect(() => planTrainingMemory(request({ batch: 64, microBatch: 48, memoryEfficient: 'off' }))).toThrow(
      /^A training step of densenet121 at 224×224×3 with batch 64 in micro-batches of 48 and plain dense layers needs about \d+\.\d\d GiB of wasm heap; the wasm backend has 4\.00 GiB \(a step can use about 3\.\d\d GiB\)\. With memory-efficient dense layers \(memoryEfficient auto or on\), batch 64 fits \(up to \d+\)\.$/,
    );
    expect(() => planTrainingMemory(request({ batch: 256, microBatch: 128, memoryEfficient: 'on' }))).toThrow(
      /^A training step of densenet121 at 224×224×3 with batch 256 in micro-batches of 128 needs about \d+\.\d\d GiB of wasm heap; .* The largest batch that fits is (\d+) with memory-efficient dense layers; or keep batch 256 and pass --micro-batch \1\.$/,
    );
  });

  it('leaves backends without a heap of their own alone', () => {
    expect(planTrainingMemory(request({ heapLimitBytes: null, batch: 512 }))).toMatchObject({ memoryEfficient: false, microBatch: 512, notes: [] });
    expect(planTrainingMemory(request({ heapLimitBytes: null, memoryEfficient: 'on' }))).toMatchObject({ memoryEfficient: true });
  });
});
