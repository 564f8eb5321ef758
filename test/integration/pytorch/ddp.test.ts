import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listCheckpoints, loadCheckpoint } from '../../../main/engine/runs/checkpoint';
import { readRun, readMetrics, readRunConfig, readRunStatus } from '../../../main/engine/runs/run-store';
import { TrainerEventSchema } from '../../../shared/protocol';
import { describeTorch, PYTORCH_PACKAGE_ROOT, pythonEnv, TORCH } from '../../support/python';
import { preparePtRun, ptSettings, stepLosses, tempRoot, trainStandalone } from '../../support/pytorch-runs';

/**
 * DistributedDataParallel through torchrun on this machine: 2 processes over gloo on the CPU, with
 * the global batch kept (each process takes half of every batch of the single-process run).
 */
let root: string;
const settings = ptSettings({ epochs: 2, batchSize: 16, checkpointEvery: 2, statsEvery: 2, gradientsEvery: 2 });

function torchrun(runDir: string, nproc = 2) {
  return spawn(TORCH.python!, ['-m', 'densenet_torch.torchrun', '--standalone', `--nproc_per_node=${nproc}`, '-m', 'densenet_torch', '--run', runDir], {
    cwd: PYTORCH_PACKAGE_ROOT, env: pythonEnv({ WORKBENCH_TORCH_CHECK_EVENTS: '1' }), stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ReturnType<typeof spawn>): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

beforeAll(() => { root = tempRoot(); });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describeTorch('DistributedDataParallel through torchrun', () => {
  it('a 2-process run (gloo, CPU) finishes, rank 0 alone writes the run, and its loss tracks the single-process run of the same global batch', async () => {
    const single = path.join(root, 'single');
    const ddp = path.join(root, 'ddp');
    await preparePtRun(single, { settings, limit: 80 });
    fs.cpSync(single, ddp, { recursive: true });
    const one = trainStandalone(single);
    expect(one.status, one.stderr).toBe(0);
    const run = await exited(torchrun(ddp));
    expect(run.code, run.output.slice(-3000)).toBe(0);

    expect(readRun(ddp).effective.status).toBe('finished');
    expect(readRunConfig(ddp).backend).toMatchObject({ name: 'pytorch', distributed: { worldSize: 2, backend: 'gloo' } });
    const { events, skipped } = readMetrics(ddp);
    expect(skipped).toBe(0);
    for (const e of events) expect(TrainerEventSchema.safeParse(e).success).toBe(true);
    // One writer: every step once, in order, and one epoch event per epoch.
    expect(events.flatMap((e) => (e.type === 'step' ? [e.step] : []))).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2);
    expect(loadCheckpoint(ddp, 'latest').manifest.step).toBe(10);

    const a = stepLosses(single);
    const b = stepLosses(ddp);
    expect(b).toHaveLength(a.length);
    // The same samples, augmentations and gradient average; only batch norm differs (each process
    // normalizes its half of the batch), so the losses track without being equal.
    expect(Math.abs(a[0] - b[0])).toBeLessThan(0.05);
    const meanGap = a.reduce((s, l, i) => s + Math.abs(l - b[i]), 0) / a.length;
    expect(meanGap).toBeLessThan(0.1);
  });

  it('a worker that dies ends the run as failed with its last checkpoint, and the run resumes (here on one process) to the end', async () => {
    const runDir = path.join(root, 'worker-dies');
    await preparePtRun(runDir, { settings: ptSettings({ ...settings, epochs: 40 }), limit: 80 });
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
