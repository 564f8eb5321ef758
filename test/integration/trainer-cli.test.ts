import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../main/engine/runs/checkpoint';
import { listRuns, readMetrics } from '../../main/engine/runs/run-store';

/**
 * `train`, `runs`, `resume` and `eval` as a user runs them: the real bin, a forked trainer, the cpu
 * backend, demo-bc-tiny at 8×8 on 40 MNIST digits (two steps an epoch).
 */
const BIN = path.resolve(__dirname, '../../bin/densenet-workbench.mjs');
let out: string;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TRAIN = ['train', '--data', 'mnist', '--limit', '40', '--input', '8x8x1', '--batch', '16', '--backend', 'cpu', '--seed', '3'];

beforeAll(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-cli-'));
});
afterAll(() => {
  fs.rmSync(out, { recursive: true, force: true });
});

describe('train / runs / resume / eval CLI', () => {
  it('rejects bad flags with one line and exit code 2', () => {
    const r = cli(['train', '--epochs', '0', '--runs', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('densenet-workbench: --epochs must be a positive integer; got "0".\n');
    expect(cli(['eval', 'no-such-run', '--runs', out]).stderr).toMatch(/No run "no-such-run"/);
  });

  it('Ctrl-C stops a run with a checkpoint; resume finishes it; runs and eval report it', async () => {
    const child = spawn(process.execPath, [BIN, ...TRAIN, '--epochs', '2', '--json', '--runs', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buffer = '';
    const sawStep = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop()!;
        for (const line of parts) {
          lines.push(line);
          if (JSON.parse(line).type === 'step') resolve();
        }
      });
    });
    await sawStep;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const events = lines.map((l) => JSON.parse(l));
    const finished = events.find((e) => e.type === 'finished');
    expect(finished).toMatchObject({ reason: 'stopped' });

    const [run] = listRuns(out);
    expect(run).toMatchObject({ status: 'finished', reason: 'stopped' });
    expect(loadCheckpoint(run.dir, 'latest').manifest.step).toBe(finished.step);
    expect(cli(['runs', '--runs', out]).stdout).toMatch(new RegExp(`${run.id}\\s+demo-bc-tiny on mnist\\s+stopped`));

    const resumed = cli(['resume', run.id, '--runs', out]);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`Resuming run ${run.id}`));
    expect(resumed.stdout).toMatch(/completed at epoch 2, step 6;/);
    const runs = JSON.parse(cli(['runs', '--json', '--runs', out]).stdout);
    expect(runs[0]).toMatchObject({ id: run.id, status: 'finished', progress: { epoch: 2, step: 6, fraction: 1 } });
    expect(cli(['resume', run.id, '--runs', out]).stderr).toMatch(/has finished \(completed\); there is nothing to resume/);

    const evaluated = cli(['eval', run.id, '--runs', out, '--backend', 'cpu', '--json']);
    expect(evaluated.status).toBe(0);
    const result = JSON.parse(evaluated.stdout);
    expect(result).toMatchObject({ run: run.id, data: 'validation split', samples: 4 });
    expect(result.confusion).toHaveLength(10);
    expect(result.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(4);
    expect(result.perClass).toHaveLength(10);
    expect(result.perClass.reduce((a: number, c: { support: number }) => a + c.support, 0)).toBe(4);
    expect(result.accuracy).toBeCloseTo(result.confusion.reduce((a: number, row: number[], i: number) => a + row[i], 0) / 4, 10);
    // eval records what it found in the run, named by its checkpoint; the report then shows it.
    const recorded = readMetrics(run.dir).events.filter((e) => e.type === 'evaluation');
    expect(recorded.at(-1)).toMatchObject({ checkpoint: result.checkpoint, split: 'validation split', step: result.step, confusion: result.confusion });
    expect(cli(['report', run.id, '--out', path.join(out, 'r.html'), '--runs', out]).status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'r.html'), 'utf8')).toContain(`(validation split, checkpoint <code>${result.checkpoint}</code>)`);
  });
});
