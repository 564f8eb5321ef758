import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readMetrics, readRun, readRunConfig } from '../../../main/engine/runs/run-store';
import { spawnPythonTrainer } from '../../../main/trainer/python-channel';
import { TrainerHost } from '../../../main/trainer/host';
import { TrainerEventSchema, type TrainerEvent } from '../../../shared/protocol';
import { PT_MODEL, ptSettings, tempRoot } from '../../support/pytorch-runs';
import { describeTorch, PYTHON_TESTS, pythonEnv, TORCH } from '../../support/python';

/**
 * The PyTorch engine through the workbench's own command line, as a user runs it (a real
 * `bin/densenet-workbench.mjs` process each time), and the host side of the Python trainer.
 */
const BIN = path.resolve('bin', 'densenet-workbench.mjs');
let root: string;
beforeAll(() => { root = tempRoot('dw-pt-cli-'); });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: pythonEnv({ FORCE_COLOR: '0', ...env }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TINY = ['--data', 'mnist', '--limit', '48', '--input', '8x8x1', '--blocks', '2,2', '--growth-rate', '4', '--init-features', '8', '--batch', '8'];

function runDirOf(stdout: string): string {
  const m = /Run folder: (.+)\n/.exec(stdout) ?? /in (\/\S+): /.exec(stdout);
  if (!m) throw new Error(`no run folder in:\n${stdout}`);
  return m[1].trim();
}

describeTorch('the PyTorch engine from the command line', () => {
  it('train --backend pytorch trains with the Python trainer, says which interpreter it chose and why, and leaves a run the workbench reads', () => {
    const r = cli(['train', '--backend', 'pytorch', '--device', 'cpu', '--python', TORCH.python!, '--epochs', '2', '--runs', 'runs', ...TINY]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pytorch: \S+ \(--python, Python 3\.\d+\.\d+\) has torch /m);
    expect(r.stdout).toMatch(/^backend: pytorch \(torch \S+, cpu\) on /m);
    expect(r.stdout).toMatch(/Run \S+ completed at epoch 2, step 12/);
    const dir = runDirOf(r.stdout);
    expect(readRunConfig(dir)).toMatchObject({ engine: 'pytorch', backend: { name: 'pytorch', kind: 'cpu', python: TORCH.python } });
    expect(readRun(dir).effective.status).toBe('finished');
    const { events, skipped } = readMetrics(dir);
    expect(skipped).toBe(0);
    expect(events.filter((e) => e.type === 'step')).toHaveLength(12);

    // The TF.js side evaluates it like any run.
    const ev = cli(['eval', dir, '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout)).toMatchObject({ samples: 5, accuracy: expect.any(Number) });
  });

  it('refuses --backend pytorch without a Python that has torch, saying why, with exit code 2', () => {
    let r = cli(['train', '--backend', 'pytorch', '--python', path.join(root, 'nope'), ...TINY]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`densenet-workbench: --backend pytorch cannot be used: The Python given with --python cannot run the PyTorch engine: ${path.join(root, 'nope')} (--python) does not exist.`);
    r = cli(['train', '--backend', 'pytorch', '--device', 'cuda', '--python', TORCH.python!, ...TINY]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^densenet-workbench: --device cuda cannot be used: .*CPU only/);
    r = cli(['train', '--nproc', '2', '--backend', 'wasm', ...TINY]);
    expect(r.stderr.trim()).toBe('densenet-workbench: --nproc is for the PyTorch engine; use --backend pytorch or leave --backend out, not --backend wasm.');
    expect(r.status).toBe(2);
  });

  it('train --prepare-only writes a run folder that python3 -m densenet_torch --run trains without Node, and the workbench reads it', () => {
    const r = cli(['train', '--prepare-only', '--epochs', '1', '--runs', 'runs', ...TINY]);
    expect(r.status, r.stderr).toBe(0);
    const dir = runDirOf(r.stdout);
    expect(r.stdout).toContain(`python3 -m densenet_torch --run ${dir}`);
    expect(fs.existsSync(path.join(dir, 'dataset', 'index.json'))).toBe(true);
    expect(readRunConfig(dir).engine).toBe('pytorch');
    const py = spawnSync(TORCH.python!, ['-m', 'densenet_torch', '--run', dir], { encoding: 'utf8', env: pythonEnv(), timeout: 120_000 });
    expect(py.status, py.stderr).toBe(0);
    const runs = cli(['runs', '--runs', 'runs', '--json']);
    expect(runs.status, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ id: path.basename(dir), status: 'finished' })]));
  });

});

describeTorch('the host of a Python trainer', () => {
  it('refuses malformed and out-of-order events with a reason each, keeps the good ones, and stays up', async () => {
    const fake = path.join(root, 'fake-python');
    fs.writeFileSync(fake, `#!/bin/sh\nexec ${TORCH.python} ${path.join(PYTHON_TESTS, 'misbehaving_trainer.py')}\n`, { mode: 0o755 });
    const host = new TrainerHost(spawnPythonTrainer({ python: fake, prepare: async () => undefined, ensureCache: async () => undefined, stderr: () => undefined }));
    const events: TrainerEvent[] = [];
    const invalid: string[] = [];
    host.on('event', (e) => events.push(e));
    host.on('invalid', (x) => invalid.push(x.reason));
    await host.ready;
    const run = host.start({ runsDir: path.join(root, 'fake-runs'), model: PT_MODEL, settings: ptSettings(), dataset: { kind: 'builtin', name: 'mnist', limit: 48 } });
    const finished = await host.finished();
    await new Promise((r) => setTimeout(r, 300));
    expect(finished).toMatchObject({ type: 'finished', reason: 'completed' });
    expect(invalid).toEqual([
      'not a JSON event: "Traceback (most recent call last): this is not JSON"',
      expect.stringMatching(/^step: /),
      'out of order: step 1 after step 1',
      'out of order: a second ready event from the same trainer',
      `out of order: a step event of run someone-else while run ${run.runId} trains`,
      `out of order: a step event after run ${run.runId} finished`,
    ]);
    expect(events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step)).toEqual([1, 2]);
    for (const e of events) expect(TrainerEventSchema.safeParse(e).success).toBe(true);
    expect(host.alive).toBe(true);
    await host.close();
  });
});
