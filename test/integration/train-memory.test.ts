import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// `densenet-workbench train` on the wasm backend with a capped heap (WORKBENCH_WASM_HEAP_MB, so
// outgrowing it is cheap): a run that cannot fit is refused before its first step, in seconds; one
// whose plain dense layers would not fit trains with memory-efficient ones, and says so.
const root = path.resolve(__dirname, '..', '..');
const train = (args: string[], heapMb: number, out: string) =>
  spawnSync(process.execPath, [path.join(root, 'bin', 'densenet-workbench.mjs'), 'train', '--data', 'mnist', '--backend', 'wasm', '--out', out, ...args], {
    cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, WORKBENCH_WASM_HEAP_MB: String(heapMb) },
  });

describe('training on the wasm heap', () => {
  it('refuses a run that cannot fit before its first step, in seconds, naming the model, input, batch and heap, and leaves no folder', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dnw-train-memory-'));
    const t0 = Date.now();
    const r = train(['--variant', 'densenet121', '--limit', '20', '--input', '224x224x1', '--batch', '8'], 96, out);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/densenet-workbench: A training step of densenet121 at 224×224×1 with batch 8 needs about [\d.]+ GiB of wasm heap; the wasm backend has 0\.09 GiB/);
    expect(r.stdout).toMatch(/failed at epoch 0, step 0/);
    expect(r.stdout).not.toContain('Run folder');
    expect(fs.readdirSync(out)).toEqual([]);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('turns memory-efficient dense layers on where the plain ones would not fit, and records it in the log and the backend report', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dnw-train-memory-'));
    const r = train(['--variant', 'densenet-bc-40-12', '--limit', '20', '--input', '32x32x1', '--batch', '8', '--epochs', '1', '--json'], 96, out);
    expect(r.status, r.stderr).toBe(0);
    const [run] = fs.readdirSync(out);
    const config = JSON.parse(fs.readFileSync(path.join(out, run, 'config.json'), 'utf8'));
    expect(config.backend).toMatchObject({ name: 'wasm', heapLimitBytes: 96 * 2 ** 20, memory: { memoryEfficient: true, microBatch: 8 } });
    // The host starts the trainer with the V8 flag where Node needs one, so relaxed SIMD runs.
    expect(config.backend.kernels).toBe('relaxed-simd');
    const logs = fs.readFileSync(path.join(out, run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).event).filter((e) => e.type === 'log');
    expect(logs.map((e) => e.message).join('\n')).toContain('Memory-efficient dense layers are on: a plain step of densenet-bc-40-12 at 32×32×1 with batch 8 needs about');
    const finished = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'finished');
    expect(finished).toMatchObject({ reason: 'completed' });
    fs.rmSync(out, { recursive: true, force: true });
  });
});
