import { expect, it } from 'vitest';
import { data, ok, sb } from './sandbox';

/** bench, bench --profile, and the memory plan's training flags (--memory-efficient, --micro-batch). */
export function benchProfileMemoryCommands(): void {
  it('bench --steps 1 measures training and forward throughput and says which backend and why', async () => {
    const r = await sb.cli(['bench', '--steps', '1', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--batch', '4', '--warmup', '0'], { timeoutMs: 300_000 });
    ok(r, 'bench');
    expect(r.stdout).toMatch(/^backend: (wasm|tensorflow|cpu) /m);
    expect(r.stdout).toMatch(/skipped tfjs-node(-gpu)?: /);
    expect(r.stdout).toMatch(/training: +\d+\.\d\d images\/s/);
    expect(r.stdout).toMatch(/forward only: +\d+\.\d\d images\/s/);
  });

  it('bench --profile times every kernel of a step, with the memory plan and its overrides', async () => {
    const r = await sb.cli(['bench', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--classes', '3', '--batch', '4', '--steps', '1', '--warmup', '0', '--backend', 'wasm', '--memory-efficient', 'on', '--micro-batch', '2', '--profile'], { timeoutMs: 300_000 });
    ok(r, 'bench --profile');
    // The CLI measures the kernels training runs: the relaxed-SIMD build, on Node 20 as on Node >= 22.
    expect(r.stdout).toMatch(/^backend: wasm .*, relaxed-SIMD training kernels$/m);
    expect(r.stdout).toMatch(/^memory plan: +memory-efficient dense layers, micro-batches of 2; step estimated at/m);
    expect(r.stdout).toMatch(/^profile of one training step \(\d+ ms with profiling; kernels \d+ ms\):$/m);
    expect(r.stdout).toMatch(/^ {2}Conv2D(BackpropFilter|BackpropInput)? +\d+\.\d ms +\d+\.\d% +\d+ calls$/m);
  });

  it('train --memory-efficient on --micro-batch N trains that way', async () => {
    const r = await sb.cli(['train', '--data', data, '--epochs', '1', '--batch', '4', '--memory-efficient', 'on', '--micro-batch', '2', '--name', 'micro', '--json'], { timeoutMs: 240_000 });
    ok(r, 'train --memory-efficient on --micro-batch 2');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === 'finished')).toMatchObject({ reason: 'completed' });
    expect(events.filter((e) => e.type === 'log').map((e) => e.message).join('\n')).toContain('Micro-batching is on (asked for): each batch of 4 is split into micro-batches of at most 2 images');
  });
}
