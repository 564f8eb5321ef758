import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// `densenet-workbench bench` end to end, on a tiny network so it takes seconds.
const root = path.resolve(__dirname, '..', '..');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [path.join(root, 'bin', 'densenet-workbench.mjs'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });

describe('densenet-workbench bench', () => {
  it('prints one JSON object with throughput, memory and the backend report', () => {
    const r = cli(['bench', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--classes', '3', '--batch', '4', '--steps', '2', '--warmup', '1', '--backend', 'wasm', '--threads', '2', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ engine: 'tfjs', variant: 'demo-bc-tiny', batch: 4, steps: 2, warmup: 1 });
    expect(out.backend).toMatchObject({ name: 'wasm', flavour: 'wasm+training-kernels', threads: 2 });
    expect(out.config.inputShape).toEqual([8, 8, 1]);
    expect(out.trainImagesPerSec).toBeGreaterThan(0);
    expect(out.forwardImagesPerSec).toBeGreaterThan(0);
    expect(out.peakRssBytes).toBeGreaterThan(0);
    expect(out.vmHwmBytes).toBeGreaterThanOrEqual(out.peakRssBytes);
    expect(Number.isFinite(out.finalLoss)).toBe(true);
  });

  it('rejects a bad flag with one line and exit code 2', () => {
    const r = cli(['bench', '--batch', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('densenet-workbench: --batch must be an integer in 1..4096; got "0".');
    const b = cli(['bench', '--backend', 'gpu']);
    expect(b.status).toBe(2);
    expect(b.stderr.trim()).toBe('densenet-workbench: --backend must be one of auto, tensorflow, wasm, cpu, pytorch; got "gpu".');
  });

  // The heap is capped (WORKBENCH_WASM_HEAP_MB) so that outgrowing it is cheap.
  describe('a model that does not fit the wasm heap', () => {
    it('is refused before the first step, in seconds, naming the model, input, batch and heap', () => {
      const t0 = Date.now();
      const r = cli(['bench', '--variant', 'densenet121', '--input', '224x224x3', '--batch', '8', '--backend', 'wasm', '--steps', '1'], { WORKBENCH_WASM_HEAP_MB: '96' });
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toMatch(/^densenet-workbench: A training step of densenet121 at 224×224×3 with batch 8 needs about [\d.]+ GiB of wasm heap; the wasm backend has 0\.09 GiB \(a step can use about [\d.]+ GiB\)\. Not even one image fits: use a smaller input size or a smaller variant, or the tensorflow backend/);
    });

    it('is refused with the largest batch that fits when the micro-batch asked for is too big', () => {
      const r = cli(['bench', '--variant', 'densenet-bc-100-12', '--batch', '64', '--micro-batch', '32', '--memory-efficient', 'off', '--backend', 'wasm', '--steps', '1'], { WORKBENCH_WASM_HEAP_MB: '256' });
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toMatch(/^densenet-workbench: A training step of densenet-bc-100-12 at 32×32×3 with batch 64 in micro-batches of 32 and plain dense layers needs about [\d.]+ GiB of wasm heap; the wasm backend has 0\.25 GiB \(a step can use about [\d.]+ GiB\)\. The largest batch that fits is (\d+) with memory-efficient dense layers; or keep batch 64 and pass --micro-batch \1\.$/);
    });

    it('trains in micro-batches when even memory-efficient layers do not fit, and says so', () => {
      const r = cli(['bench', '--variant', 'demo-bc-small', '--input', '28x28x1', '--batch', '32', '--steps', '2', '--warmup', '1', '--backend', 'wasm', '--json'], { WORKBENCH_WASM_HEAP_MB: '64' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out.memory.memoryEfficient).toBe(true);
      expect(out.memory.microBatch).toBeGreaterThan(1);
      expect(out.memory.microBatch).toBeLessThan(32);
      expect(out.memory.notes.join(' ')).toMatch(/^Micro-batching is on: a step of demo-bc-small at 28×28×1 with batch 32 does not fit the 0\.06 GiB wasm heap even with memory-efficient dense layers .* Batch normalization then normalizes each micro-batch with its own statistics/);
      expect(out.memory.heapPeakBytes).toBeLessThanOrEqual(out.memory.estimatedPeakBytes);
      expect(Number.isFinite(out.finalLoss)).toBe(true);
    });
  });
});
