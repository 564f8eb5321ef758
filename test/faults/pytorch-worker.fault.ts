import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listCheckpoints } from '../../main/engine/runs/checkpoint';
import { readMetrics, readRun, readRunStatus } from '../../main/engine/runs/run-store';
import { describeTorch } from '../support/python';
import { exited, preparePtRun, ptSettings, tempRoot, torchrun, trainStandalone } from '../support/pytorch-runs';

/** A DistributedDataParallel worker killed mid-run: the run ends failed with its last checkpoint, and resumes. */
let root: string;
const settings = ptSettings({ epochs: 40, batchSize: 16, checkpointEvery: 2, statsEvery: 2, gradientsEvery: 2 });
beforeAll(() => { root = tempRoot(); });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describeTorch('a torchrun worker that dies', () => {
  it('a worker that dies ends the run as failed with its last checkpoint, and the run resumes (here on one process) to the end', async () => {
    const runDir = path.join(root, 'worker-dies');
    await preparePtRun(runDir, { settings, limit: 80 });
    const child = torchrun(runDir);
    const done = exited(child);
    // Wait for a checkpoint, then SIGKILL rank 1 (found by its environment).
    const end = Date.now() + 90_000;
    while (listCheckpoints(runDir).length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const rank1 = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).find((p) => {
      try {
        const env = fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0');
        return env.includes('RANK=1') && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(runDir);
      } catch {
        return false;
      }
    });
    expect(rank1).toBeDefined();
    process.kill(Number(rank1), 'SIGKILL');
    const run = await done;
    expect(run.code).not.toBe(0);
    const status = readRunStatus(runDir)!;
    expect(['failed', 'interrupted']).toContain(readRun(runDir).effective.status);
    expect(status.message ?? '').toMatch(/DistributedDataParallel run \(2 processes\) stopped|terminated/);
    const last = listCheckpoints(runDir)[0];

    const resumed = trainStandalone(runDir);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readRun(runDir).effective.status).toBe('finished');
    const steps = readMetrics(runDir).events.flatMap((e) => (e.type === 'step' ? [e.step] : []));
    expect(steps[steps.length - 1]).toBe(200);
    expect(steps).toContain(last.step + 1);
  });
});
