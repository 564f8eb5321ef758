import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostEvent, OpenedRun, RunInfo } from '../../../shared/api';
import { enginePorts } from '../../../main/host/engine-ports';
import { Roots } from '../../../main/host/roots';
import { WorkbenchService } from '../../../main/host/workbench-service';
import { readRunStatus } from '../../../main/engine/runs/run-store';
import { forkTrainer } from '../../../main/trainer/fork';
import { describeTorch, PYTORCH_PACKAGE_ROOT, pythonEnv, TORCH } from '../../support/python';
import { preparePtRun, ptSettings, tempRoot } from '../../support/pytorch-runs';

/**
 * A host shows live a run it did not start: here a standalone Python trainer (as on a GPU box that
 * shares the run folder), followed through the run's metrics.jsonl by the same WorkbenchService
 * that serve and the desktop app use.
 */
let root: string;
beforeAll(() => { root = tempRoot('dw-pt-follow-'); });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describeTorch('a run trained by another process', () => {
  it('is listed as running and, once opened, streams its events live to the end: every epoch once, steps in order', async () => {
    const runsDir = path.join(root, 'runs');
    const runDir = path.join(runsDir, 'elsewhere');
    await preparePtRun(runDir, { settings: ptSettings({ epochs: 12, checkpointEvery: 1000 }) });
    const trainer = spawn(TORCH.python!, ['-m', 'densenet_torch', '--run', runDir], { cwd: PYTORCH_PACKAGE_ROOT, env: pythonEnv(), stdio: 'ignore' });
    const exited = new Promise((resolve) => trainer.once('exit', resolve));
    try {
      const service = new WorkbenchService({
        ports: enginePorts({ runsDir, createChannel: () => forkTrainer() }),
        roots: await Roots.create([root]), runsDir, mode: 'test', version: 't', restrictPaths: true,
      });
      const live: HostEvent[] = [];
      service.subscribe((batch) => live.push(...batch));
      const end = Date.now() + 60_000;
      while (readRunStatus(runDir)?.status !== 'running' && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const list = await service.call('run:list', null);
      expect((list as { value: RunInfo[] }).value.find((r) => r.id === 'elsewhere')).toMatchObject({ status: 'running' });

      const opened = await service.call('run:open', { runId: 'elsewhere' });
      expect(opened.ok).toBe(true);
      const before = (opened as { value: OpenedRun }).value.events;
      while (!live.some((e) => e.type === 'finished') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      await exited;
      // Steps reach a UI coalesced (the newest of each window, main/host/throttle.ts), in order, to the
      // last; epoch ends are never dropped: between what opening read and what followed, each once.
      const steps = [...before, ...live].flatMap((e) => (e.type === 'step' ? [e.step] : []));
      expect(steps.every((s, i) => i === 0 || s > steps[i - 1])).toBe(true);
      expect(steps[steps.length - 1]).toBe(12 * 6);
      expect(live.filter((e) => e.type === 'step').length).toBeGreaterThan(0);
      const epochs = [...before, ...live].flatMap((e) => (e.type === 'epoch' ? [e.epoch] : []));
      expect(epochs).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(live.some((e) => e.type === 'runsChanged')).toBe(true);
      await service.dispose();
    } finally {
      trainer.kill('SIGKILL');
    }
  });
});
