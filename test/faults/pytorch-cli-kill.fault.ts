import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listCheckpoints } from '../../main/engine/runs/checkpoint';
import { readRun } from '../../main/engine/runs/run-store';
import type { TrainerEvent } from '../../shared/protocol';
import { describeTorch, pythonEnv } from '../support/python';
import { tempRoot } from '../support/pytorch-runs';

/** The PyTorch engine's trainer killed under the CLI (`train --backend pytorch`), then `resume`. */
const BIN = path.resolve('bin', 'densenet-workbench.mjs');
const TINY = ['--data', 'mnist', '--limit', '48', '--input', '8x8x1', '--blocks', '2,2', '--growth-rate', '4', '--init-features', '8', '--batch', '8'];
let root: string;
beforeAll(() => { root = tempRoot('dw-pt-kill-'); });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: pythonEnv({ FORCE_COLOR: '0' }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeTorch('the PyTorch engine under the CLI', () => {
  it('a Python trainer killed with SIGKILL mid-run leaves the run interrupted, and `resume` continues it from its last checkpoint to the end', async () => {
    const child = spawn(process.execPath, [BIN, 'train', '--backend', 'pytorch', '--device', 'cpu', '--epochs', '8', '--runs', 'runs', '--json', ...TINY], { cwd: root, env: pythonEnv() });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    let runDir = '';
    const end = Date.now() + 120_000;
    // Wait for the run's second checkpoint (an epoch end), then kill its trainer by the pid in its lock.
    while (Date.now() < end) {
      const m = /"runId":"([^"]+)"/.exec(out);
      if (m) runDir = path.join(root, 'runs', m[1]);
      if (runDir && listCheckpoints(runDir).length >= 2 && fs.existsSync(path.join(runDir, 'trainer.lock'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { pid } = JSON.parse(fs.readFileSync(path.join(runDir, 'trainer.lock'), 'utf8')) as { pid: number };
    process.kill(pid, 'SIGKILL');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(readRun(runDir).effective.status).toBe('interrupted');
    const last = listCheckpoints(runDir)[0].step;

    const r = cli(['resume', runDir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(readRun(runDir).effective.status).toBe('finished');
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as TrainerEvent);
    const steps = lines.flatMap((e) => (e.type === 'step' ? [e.step] : []));
    expect(steps[0]).toBe(last + 1);
    expect(steps[steps.length - 1]).toBe(8 * 6);
  });
});
