import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { ROOT } from '../../support/cli-process';
import { ok, sb } from './sandbox';

/** The comparison with PyTorch (npm run bench:compare) and the cost benchmarks run with npx tsx. */
export function benchCompareCommands(): void {
  it('npm run bench:compare runs the workbench and PyTorch side by side (where PyTorch is installed)', async (ctx) => {
    const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (torch.status !== 0) {
      console.log('[readme] skipped npm run bench:compare: no PyTorch in /usr/bin/python3 (apt-get install python3-torch python3-torchvision)');
      ctx.skip();
    }
    const r = await sb.start(['run', 'bench:compare', '--', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--batch', '4', '--steps', '1', '--warmup', '0', '--threads', '1', '--engines', 'tfjs,pytorch'], { program: 'npm', cwd: ROOT, timeoutMs: 180_000 }).exited;
    ok(r, 'npm run bench:compare');
    expect(r.stdout).toMatch(/train images\/s\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d{3}x/);
    // The PyTorch engine's row beside plain PyTorch.
    expect(r.stdout).toMatch(/train images\/s, inspection on \(stats\/100, grads\/50\)\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d{3}x/);
    // The DenseNet-121 workload's flags, repeated runs and their range (on a tiny input: the
    // workload's variant, a smaller size and batch).
    const w = await sb.start(['run', 'bench:compare', '--', '--workload', 'densenet121', '--input', '32x32x3', '--batch', '2', '--steps', '1', '--warmup', '0', '--runs', '2', '--engines', 'tfjs'], { program: 'npm', cwd: ROOT, timeoutMs: 600_000 }).exited;
    ok(w, 'npm run bench:compare -- --workload densenet121 --runs 2');
    expect(w.stdout).toMatch(/^densenet121, input 32x32x3, batch 2/m);
    expect(w.stdout).toMatch(/^train images\/s +\d+\.\d{3}–\d+\.\d{3}x\s*$/m);
  });

  it('npx tsx test/bench/inspect-cost.ts measures what inspection costs', async () => {
    const r = await sb.start(['tsx', 'test/bench/inspect-cost.ts', '--steps', '6', '--batch', '4'], { program: 'npx', cwd: ROOT, timeoutMs: 180_000 }).exited;
    ok(r, 'inspect-cost');
    expect(r.stdout).toMatch(/A\/B \(CPU time\): off \d+\.\d\d, on \d+\.\d\d img\/s/);
  });

  it('npx tsx test/bench/ablation-cost.ts compares the ablation overview with the plain method', async () => {
    const r = await sb.start(['tsx', 'test/bench/ablation-cost.ts', '--variant', 'demo-bc-tiny', '--input', '8x8x1', '--samples', '16', '--batch', '8', '--backend', 'cpu'], { program: 'npx', cwd: ROOT, timeoutMs: 180_000 }).exited;
    ok(r, 'ablation-cost');
    expect(r.stdout).toMatch(/speed-up: \d+\.\d\d× wall, \d+\.\d\d× CPU; results agree/);
  });
}
