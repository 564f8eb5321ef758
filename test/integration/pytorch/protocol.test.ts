import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listCheckpoints } from '../../../main/engine/runs/checkpoint';
import { readRun, readMetrics, readRunStatus } from '../../../main/engine/runs/run-store';
import { CHECKPOINT_WRITTEN_PATTERN, TrainerEventSchema, type TrainerEvent } from '../../../shared/protocol';
import { describeTorch } from '../../support/python';
import { PT_MODEL, preparePtRun, protocolTrainer, ptSettings, stepLosses, tempRoot, trainStandalone } from '../../support/pytorch-runs';

/**
 * The Python trainer over its protocol (JSON lines on stdin and stdout), as a host drives it:
 * commands in, events out, a run folder that the TF.js side reads, and exact resumes.
 */
let root: string;
let reference: number[];
const model = { ...PT_MODEL, dropRate: 0.1 };
const settings = ptSettings({ epochs: 3, checkpointEvery: 4, statsEvery: 3, gradientsEvery: 2 });

beforeAll(async () => {
  root = tempRoot();
  // The uninterrupted run every interrupted one must reproduce, loss for loss.
  const ref = path.join(root, 'reference');
  await preparePtRun(ref, { model, settings });
  const r = trainStandalone(ref);
  expect(r.status, r.stderr).toBe(0);
  reference = stepLosses(ref);
  expect(reference).toHaveLength(3 * 6);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function until(ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function expectValid(events: readonly unknown[]): void {
  for (const e of events) {
    const r = TrainerEventSchema.safeParse(e);
    expect(r.success, `${JSON.stringify(e).slice(0, 300)}: ${r.error?.issues[0]?.message}`).toBe(true);
  }
}

describeTorch('the Python trainer over the trainer protocol', () => {
  it('says ready, refuses malformed commands with an error event and stays up', async () => {
    const t = protocolTrainer();
    try {
      const ready = await t.waitFor((e) => e.type === 'ready');
      expect(ready).toMatchObject({ type: 'ready', protocol: 1, pid: t.child.pid });
      t.child.stdin!.write('this is not json\n');
      t.send({ type: 'inspect', what: 'weights' });
      t.send({ type: 'resumeRun', runDir: '' });
      t.send({ type: 'pause' });
      await t.waitFor(() => t.events.filter((e) => e.type === 'error').length >= 4);
      const errors = t.events.filter((e): e is Extract<TrainerEvent, { type: 'error' }> => e.type === 'error').map((e) => e.error.message);
      expect(errors[0]).toMatch(/^Rejected a command that is not JSON/);
      expect(errors[1]).toMatch(/^Rejected a malformed command at what: must be one of "stats", .*; got "weights"/);
      expect(errors[2]).toMatch(/^Rejected a malformed command at runDir: must have at least 1 characters/);
      expect(errors[3]).toBe('No run is training; cannot pause.');
      expect(t.child.exitCode).toBeNull();
      expectValid(t.events);
    } finally {
      t.child.kill('SIGKILL');
    }
  });

  it('trains a prepared run, pauses, inspects while paused, snapshots, stops with a checkpoint, and a resume continues exactly as if it had never stopped', async () => {
    const runDir = path.join(root, 'stop-resume');
    await preparePtRun(runDir, { model, settings });
    const t = protocolTrainer();
    try {
      await t.waitFor((e) => e.type === 'ready');
      t.send({ type: 'start', runDir, model, settings, dataset: { kind: 'builtin', name: 'mnist', limit: 48 } });
      await t.waitFor((e) => e.type === 'step' && e.step === 2);
      t.send({ type: 'pause' });
      await t.waitFor((e) => e.type === 'state' && e.state === 'paused');
      expect(readRunStatus(runDir)?.status).toBe('paused');
      for (const what of ['stats', 'contributions', 'evaluation', 'ablation', 'gradients'] as const) t.send({ type: 'inspect', what, requestId: `r-${what}` });
      t.send({ type: 'inspect', what: 'activations', sample: 3 });
      t.send({ type: 'inspect', what: 'activations', sample: 99, requestId: 'too-far' });
      t.send({ type: 'snapshot' });
      const activations = await t.waitFor((e) => e.type === 'activations');
      for (const type of ['layerStats', 'contributions', 'evaluation', 'ablation', 'gradients']) await t.waitFor((e) => e.type === type);
      expect(activations).toMatchObject({ sample: 3, layers: expect.arrayContaining([expect.objectContaining({ layer: 'conv1', width: 8, height: 8 })]) });
      const png = Buffer.from((activations as Extract<TrainerEvent, { type: 'activations' }>).layers[0].pngs[0], 'base64');
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      // Every request ends with one inspectDone; a sample past the split says so.
      for (const what of ['stats', 'contributions', 'evaluation', 'ablation', 'gradients']) {
        await t.waitFor((e) => e.type === 'inspectDone' && e.requestId === `r-${what}`);
      }
      expect(t.events.find((e) => e.type === 'inspectDone' && e.requestId === 'r-ablation')).toMatchObject({ ok: true, what: 'ablation' });
      expect(await t.waitFor((e) => e.type === 'inspectDone' && e.requestId === 'too-far')).toMatchObject({
        ok: false, error: { message: 'Sample 99 is outside the validation split, which has 5 samples (0..4).', user: true },
      });
      expect(t.events.find((e) => e.type === 'evaluation')).toMatchObject({ split: 'validation split', loss: expect.any(Number) });
      await until(() => listCheckpoints(runDir).some((c) => c.reason === 'snapshot'));
      expect(listCheckpoints(runDir).find((c) => c.reason === 'snapshot')?.step).toBeGreaterThanOrEqual(2);
      // The trainer says the requested checkpoint is written, as the TF.js one does (the UI settles its banner on it).
      expect(await t.waitFor((e) => e.type === 'log' && CHECKPOINT_WRITTEN_PATTERN.test(e.message))).toBeDefined();
      // Steps carry their batch size and the epoch's running means (batches of 8).
      expect(t.events.find((e) => e.type === 'step' && e.step === 1)).toMatchObject({ images: 8, epochLoss: expect.any(Number), epochAccuracy: expect.any(Number) });
      t.send({ type: 'resume' });
      await t.waitFor((e) => e.type === 'state' && e.state === 'running' && t.events.some((p) => p.type === 'state' && p.state === 'paused'));
      await t.waitFor((e) => e.type === 'step' && e.step === 7);
      t.send({ type: 'stop' });
      const stopped = await t.waitFor((e) => e.type === 'finished');
      expect(stopped).toMatchObject({ reason: 'stopped' });
      expect(readRunStatus(runDir)).toMatchObject({ status: 'finished', reason: 'stopped' });
      expect(listCheckpoints(runDir)[0]).toMatchObject({ reason: 'stop', step: (stopped as { step: number }).step });
      // Evaluated as it stopped, on the stop's checkpoint, just before `finished` (as the TF.js engine does).
      const stopStep = (stopped as { step: number }).step;
      expect(t.events[t.events.indexOf(stopped) - 1]).toMatchObject({ type: 'evaluation', step: stopStep, checkpoint: `step-${String(stopStep).padStart(9, '0')}` });

      t.send({ type: 'resumeRun', runDir });
      const done = await t.waitFor((e) => e.type === 'finished' && e.reason === 'completed');
      expect(done).toMatchObject({ step: 18, epoch: 3 });
      expect(t.events[t.events.indexOf(done) - 1]).toMatchObject({ type: 'evaluation', step: 18, checkpoint: 'step-000000018', split: 'validation split' });
      expect(readRun(runDir).effective.status).toBe('finished');
      // Every step once, in order, with the uninterrupted run's loss: the resume restored weights,
      // momentum, the data order mid-epoch and the dropout masks.
      expect(stepLosses(runDir)).toEqual(reference);
      const { events, skipped } = readMetrics(runDir);
      expect(skipped).toBe(0);
      expect(events.some((e) => e.type === 'layerStats' && e.epochEnd)).toBe(true);
      expect(events.filter((e) => e.type === 'contributions').length).toBeGreaterThanOrEqual(3);
      expectValid(t.events);
    } finally {
      t.child.kill('SIGKILL');
    }
  });

  it('killed with SIGKILL mid-run, the run reads as interrupted and a new trainer resumes it from its last checkpoint with the same losses', async () => {
    const runDir = path.join(root, 'sigkill');
    await preparePtRun(runDir, { model, settings });
    const first = protocolTrainer();
    await first.waitFor((e) => e.type === 'ready');
    first.send({ type: 'start', runDir, model, settings, dataset: { kind: 'builtin', name: 'mnist', limit: 48 } });
    await first.waitFor((e) => e.type === 'step' && e.step === 9);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(readRun(runDir).effective.status).toBe('interrupted');
    const last = listCheckpoints(runDir)[0];
    expect(last.step).toBeGreaterThanOrEqual(8);

    const second = protocolTrainer();
    try {
      await second.waitFor((e) => e.type === 'ready');
      second.send({ type: 'resumeRun', runDir });
      await second.waitFor((e) => e.type === 'finished');
      expect(readRun(runDir).effective.status).toBe('finished');
      const resumed = second.events.flatMap((e) => (e.type === 'step' ? [[e.step, e.loss]] : []));
      expect(resumed[0][0]).toBe(last.step + 1);
      for (const [step, loss] of resumed) expect(loss).toBe(reference[step - 1]);
    } finally {
      second.child.kill('SIGKILL');
    }
  });

  it('inspects a run that is not training from a checkpoint (inspectRun): the result, inspectDone, and the evaluation recorded in the run', async () => {
    const runDir = path.join(root, 'reference');
    const t = protocolTrainer();
    try {
      await t.waitFor((e) => e.type === 'ready');
      t.send({ type: 'inspectRun', runDir, checkpoint: 'latest', what: 'evaluation', requestId: 'e1' });
      const done = await t.waitFor((e) => e.type === 'inspectDone');
      expect(done).toMatchObject({ ok: true, requestId: 'e1', what: 'evaluation' });
      const evaluation = t.events.find((e) => e.type === 'evaluation')!;
      expect(evaluation).toMatchObject({ checkpoint: 'step-000000018', step: 18 });
      expect(readMetrics(runDir).events.filter((e) => e.type === 'evaluation').at(-1)).toEqual(evaluation);
      t.send({ type: 'inspectRun', runDir, checkpoint: 'latest', what: 'gradients', requestId: 'g1' });
      await t.waitFor((e) => e.type === 'inspectDone' && e.requestId === 'g1');
      expect(t.events.find((e) => e.type === 'gradients')).toMatchObject({ checkpoint: 'step-000000018', layers: expect.arrayContaining([expect.objectContaining({ layer: 'conv1_conv', updateRatio: null })]) });
      t.send({ type: 'inspectRun', runDir, checkpoint: 'step-000000003', what: 'stats', requestId: 's1' });
      expect(await t.waitFor((e) => e.type === 'inspectDone' && e.requestId === 's1')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/has no checkpoint "step-000000003"/) } });
      t.send({ type: 'cancelInspect', requestId: 'nothing' });
      expect(await t.waitFor((e) => e.type === 'error')).toMatchObject({ error: { message: 'No inspection nothing is in progress in this trainer; there is nothing to cancel.' } });
      expectValid(t.events);
    } finally {
      t.child.kill('SIGKILL');
    }
  });

  it('stops with a checkpoint and exits when its host goes away (end of stdin); the run is interrupted and resumable', async () => {
    const runDir = path.join(root, 'host-lost');
    await preparePtRun(runDir, { model, settings });
    const t = protocolTrainer();
    await t.waitFor((e) => e.type === 'ready');
    t.send({ type: 'start', runDir, model, settings, dataset: { kind: 'builtin', name: 'mnist', limit: 48 } });
    await t.waitFor((e) => e.type === 'step' && e.step === 3);
    t.child.stdin!.end();
    const code = await new Promise((resolve) => t.child.once('exit', resolve));
    expect(code).toBe(0);
    expect(readRunStatus(runDir)).toMatchObject({ status: 'interrupted', pid: null });
    expect(listCheckpoints(runDir)[0].reason).toBe('stop');
  });
});
