import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../main/engine/runs/checkpoint';
import { listRuns, readMetrics } from '../../main/engine/runs/run-store';
import { forkTrainerHost } from '../../main/trainer/host';

/**
 * The host dies (SIGKILL of the `train` CLI) while its trainer trains. The trainer
 * notices its IPC channel closing, stops at the next step with a checkpoint and exits; the run is
 * then listed as interrupted and resumes from that checkpoint.
 */
const BIN = path.resolve(__dirname, '../../bin/densenet-workbench.mjs');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-host-death-'));
afterAll(() => {
  fs.rmSync(out, { recursive: true, force: true });
});

async function until<T>(fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('Timed out waiting.');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a killed host', () => {
  it('leaves its run interrupted with a checkpoint, and the run resumes from it', async () => {
    const cli = spawn(process.execPath, [BIN, 'train', '--data', 'mnist', '--limit', '40', '--input', '8x8x1', '--batch', '16',
      '--epochs', '50', '--backend', 'cpu', '--json', '--out', out], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    cli.stdout.on('data', (c: Buffer) => { text += c.toString(); });
    await until(() => (text.includes('"type":"step"') ? true : undefined));
    cli.kill('SIGKILL');

    const run = await until(() => listRuns(out).find((r) => r.status === 'interrupted'));
    expect(run.message).toMatch(/left without its host and stopped at step \d+ with a checkpoint/);
    const ckpt = loadCheckpoint(run.dir, 'latest').manifest;
    expect(ckpt.reason).toBe('stop');
    const lastLogged = readMetrics(run.dir).events.filter((e) => e.type === 'step').at(-1) as { step: number };
    expect(ckpt.step).toBe(lastLogged.step);

    const host = forkTrainerHost({ stdio: 'ignore' });
    try {
      await host.ready;
      const next = new Promise<number>((resolve) => host.on('event', (e) => { if (e.type === 'step') resolve(e.step); }));
      host.resumeRun(run.dir);
      expect(await next).toBe(ckpt.step + 1);
      host.stop();
      expect(await host.finished()).toMatchObject({ type: 'finished', reason: 'stopped' });
    } finally {
      await host.close(5_000);
    }
    expect(listRuns(out)[0]).toMatchObject({ status: 'finished', reason: 'stopped' });
  });
});
