import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../../main/engine/backend/index';
import { HeapExhaustedError, heapGuard } from '../../../../../main/engine/backend/wasm/heap-guard';
import { trainingKernels } from '../../../../../main/engine/backend/wasm/init';
import { KernelThreadError } from '../../../../../main/engine/backend/wasm/pool';
import { buildDenseNet } from '../../../../../main/engine/model/densenet';
import { trainVariables } from '../../../../../main/engine/train/model-weights';
import { Optimizer } from '../../../../../main/engine/train/optimizers';
import { trainStep } from '../../../../../main/engine/train/step';
import { tinyConfig } from '../../../../support/tiny-models';

// A heap capped at 160 MiB (vitest runs each test file in its own process) makes running out cheap:
// the step must fail with an error, quickly, never hang, and the backend must go on working.
const CAP = 160 * 2 ** 20;

function step(batch: number) {
  const config = tinyConfig({ blocks: [4, 4], growthRate: 12, inputShape: [32, 32, 3] });
  const model = buildDenseNet(config);
  const variables = trainVariables(model);
  const optimizer = new Optimizer({ name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, variables);
  const data = { x: new Float32Array(batch * 32 * 32 * 3).fill(0.5), y: new Int32Array(batch), n: batch };
  try {
    return trainStep({ model, variables, optimizer, classes: config.classes, labelSmoothing: 0, seed: 1 }, data, 0, 0.1);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

describe('the wasm heap guard', () => {
  beforeAll(async () => {
    const report = await initBackend('wasm', { threads: 2, heapLimitBytes: CAP });
    expect(report.heapLimitBytes).toBe(CAP);
  });

  it('turns a step that outgrows the heap into HeapExhaustedError within seconds, and the backend still trains after it', () => {
    const t0 = Date.now();
    let caught: unknown;
    try {
      step(256);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HeapExhaustedError);
    expect((caught as Error).message).toMatch(/^The wasm heap is full: [\d.]+ MiB more were needed with [\d.]+ GiB of its 0\.16 GiB in use\.$/);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(Number.isFinite(step(4).loss)).toBe(true);
    // What the failed step had allocated was released again.
    expect(heapGuard()!.liveBytes()).toBeLessThan(CAP / 4);
  });

  it("surfaces a failure on the kernels' helper thread as an error instead of waiting for it", () => {
    const simd = trainingKernels()!;
    expect(simd.pool.threads).toBe(2);
    const end = simd.memory.buffer.byteLength;
    // The helper's share writes past the end of the heap and faults; this thread's share is fine.
    const scratch = (tf.backend() as unknown as { wasm: { _malloc(n: number): number; _free(p: number): void } }).wasm;
    const p = scratch._malloc(4096) >>> 0;
    const t0 = Date.now();
    expect(() => simd.pool.split('add_into', [end - 64, p, 1 << 20], [p, p, 16])).toThrow(KernelThreadError);
    expect(Date.now() - t0).toBeLessThan(5_000);
    // The helper survives its fault and takes the next job.
    simd.pool.split('add_into', [p, p, 16], [p + 64, p + 64, 16]);
    scratch._free(p);
  });

  it("throws when XNNPACK reports that an allocation of its own failed (tfjs prints it and goes on with no operator)", () => {
    // What tfjs-backend-wasm's C++ prints when xnn_create_* returns xnn_status_out_of_memory (6).
    fs.writeSync(2, 'XNN status for xnn_create_convolution2d_nhwc_f32 is not successful. Got status 6. Use -c dbg to see XNN logs.\n');
    const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
    const w = tf.ones([1, 1, 2, 2]) as tf.Tensor4D;
    expect(() => tf.conv2d(x, w, 1, 'same')).toThrow(/^XNNPACK could not allocate memory in xnn_create_convolution2d_nhwc_f32 \(.* of the 0\.16 GiB heap in use\)\. The wasm heap is too small for this step\.$/);
    // Reported once: the next call runs normally.
    expect(Array.from(tf.conv2d(x, w, 1, 'same').dataSync())).toEqual(new Array(32).fill(2));
    tf.dispose([x, w]);
  });
});
