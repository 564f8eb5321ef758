import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// `densenet-workbench bench` end to end, on a tiny network so it takes seconds.
const root = path.resolve(__dirname, '..', '..');
const cli = (args: string[]) => spawnSync(process.execPath, [path.join(root, 'bin', 'densenet-workbench.mjs'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

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
    expect(b.stderr.trim()).toBe('densenet-workbench: --backend must be one of auto, tensorflow, wasm, cpu; got "gpu".');
  });
});
