import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_WRITTEN_PATTERN, type TrainerEvent } from '../../shared/protocol';
import { TrainSettingsSchema } from '../../shared/training';
import { listCheckpoints, loadCheckpoint } from '../../main/engine/runs/checkpoint';
import { listRuns, readMetrics, readRun } from '../../main/engine/runs/run-store';
import { forkTrainerHost, type HostExit, type TrainerHost } from '../../main/trainer/host';

/**
 * The trainer process end to end, through the real child_process.fork: a tiny run on 60 MNIST
 * digits at 8×8, paused, resumed, stopped, resumed again and then SIGKILLed.
 */
const model = {
  variant: 'test-micro', blocks: [1, 1], growthRate: 2, bottleneck: true, compression: 0.5, initFeatures: 4,
  stem: 'cifar' as const, dropRate: 0, inputShape: [8, 8, 1] as [number, number, number], classes: 10,
};
const settings = TrainSettingsSchema.parse({
  epochs: 50, batchSize: 8, lr: 0.05, backend: 'cpu', seed: 5, valFraction: 0.2, checkpointEvery: 2,
  statsEvery: 0, gradientsEvery: 0, augment: { padCrop: false, flip: false },
});
const dataset = { kind: 'builtin' as const, name: 'mnist' as const, limit: 60 };

let root: string;
let host: TrainerHost;
const events: TrainerEvent[] = [];

function waitFor<T extends TrainerEvent>(pred: (e: TrainerEvent) => e is T, timeoutMs?: number): Promise<T>;
function waitFor(pred: (e: TrainerEvent) => boolean, timeoutMs?: number): Promise<TrainerEvent>;
function waitFor(pred: (e: TrainerEvent) => boolean, timeoutMs = 60_000): Promise<TrainerEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`Timed out; last events: ${JSON.stringify(events.slice(-3))}`)); }, timeoutMs);
    const off = host.on('event', (e) => {
      if (pred(e)) {
        clearTimeout(timer);
        off();
        resolve(e);
      }
    });
  });
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-proc-'));
  host = forkTrainerHost({ stdio: 'ignore' });
  host.on('event', (e) => events.push(e));
  await host.ready;
});

afterAll(async () => {
  if (host.alive) await host.close(5_000);
  fs.rmSync(root, { recursive: true, force: true });
});

describe('trainer process', () => {
  it('rejects malformed commands with an error event and keeps running', async () => {
    const rejected = waitFor((e) => e.type === 'error');
    host.sendRaw({ type: 'start', runDir: 42 });
    const err = await rejected;
    expect(err).toMatchObject({ type: 'error', fatal: false, error: { name: 'ProtocolError' } });
    expect(err.type === 'error' && err.error.message).toMatch(/Rejected a malformed command/);
    const second = waitFor((e) => e.type === 'error');
    host.sendRaw('not even an object');
    expect((await second).type).toBe('error');
    // Still alive and answering: a valid command with nothing to act on gets its own error.
    const third = waitFor((e) => e.type === 'error');
    host.pause();
    expect(await third).toMatchObject({ error: { message: 'No run is training; cannot pause.' } });
    expect(host.alive).toBe(true);
  });

  it('trains, pauses, resumes and stops with a checkpoint, then resumes from it and survives a SIGKILL', async () => {
    const { runId, runDir } = host.start({ runsDir: root, name: 'proc test', model, settings, dataset });
    const firstStep = await waitFor((e) => e.type === 'step');
    expect(firstStep).toMatchObject({ runId, step: 1, epoch: 0, stepsPerEpoch: 6 });
    // Each step says its batch size and the epoch's means so far (48 training images: 6 batches of 8).
    expect(firstStep).toMatchObject({ images: 8 });
    if (firstStep.type === 'step') expect(firstStep.epochLoss).toBeCloseTo(firstStep.loss, 10);

    host.pause();
    await waitFor((e) => e.type === 'state' && e.state === 'paused');
    expect(listRuns(root)[0]).toMatchObject({ id: runId, status: 'paused', name: 'proc test' });
    const stepsWhilePaused = events.filter((e) => e.type === 'step').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(events.filter((e) => e.type === 'step').length).toBe(stepsWhilePaused);
    // A checkpoint asked for while paused is written, and the trainer says so (the UI settles its banner on it).
    host.snapshot();
    const written = await waitFor((e) => e.type === 'log' && CHECKPOINT_WRITTEN_PATTERN.test(e.message));
    expect(written.type === 'log' && written.message).toMatch(/^Checkpoint step-\d+ written at step \d+, as requested\.$/);
    // Gradients asked for while paused, before any step captured them (gradientsEvery 0): computed now.
    // Both waiters first: the two events can arrive in one chunk, before a later waiter would listen.
    const gradsEvent = waitFor((e) => e.type === 'gradients');
    const inspectDone = waitFor((e) => e.type === 'inspectDone');
    host.inspect('gradients');
    const grads = await gradsEvent;
    expect(grads.type === 'gradients' && grads.layers.map((l) => l.layer)).toContain('conv2_block1_1_conv');
    expect(grads.type === 'gradients' && grads.layers.every((l) => l.gradNorm > 0 && l.updateRatio === null)).toBe(true);
    expect(await inspectDone).toMatchObject({ what: 'gradients', ok: true });
    expect(events.filter((e) => e.type === 'step').length).toBe(stepsWhilePaused);
    host.resume();
    await waitFor((e) => e.type === 'state' && e.state === 'running');
    await waitFor((e) => e.type === 'step' && e.step >= 4);

    host.stop();
    const finished = await host.finished();
    expect(finished).toMatchObject({ type: 'finished', reason: 'stopped', runId });
    const stoppedAt = (finished as { step: number }).step;
    expect(readRun(runDir).effective).toEqual({ status: 'finished', reason: 'stopped' });
    expect(loadCheckpoint(runDir, 'latest').manifest).toMatchObject({ step: stoppedAt, reason: 'stop' });
    const logged = readMetrics(runDir);
    expect(logged.skipped).toBe(0);
    expect(logged.events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step)).toEqual(
      Array.from({ length: stoppedAt }, (_, i) => i + 1),
    );

    // Resume in the same trainer: it continues at the next step.
    host.resumeRun(runDir);
    const next = await waitFor((e) => e.type === 'step' && e.step > stoppedAt);
    expect(next).toMatchObject({ step: stoppedAt + 1, runId });
    await waitFor((e) => e.type === 'step' && e.step >= stoppedAt + 4);

    const exit = new Promise<HostExit>((resolve) => host.on('exit', resolve));
    host.kill('SIGKILL');
    const x = await exit;
    expect(x).toMatchObject({ signal: 'SIGKILL', finished: false, runId });
    expect(x.message).toMatch(/killed by SIGKILL during run .* marked interrupted and can be resumed/);
    expect(await host.finished()).toBe(x);

    // The store is still readable: status, metrics (with the host's note), and a loadable checkpoint.
    expect(listRuns(root)[0]).toMatchObject({ id: runId, status: 'interrupted' });
    const after = readMetrics(runDir);
    expect(after.events.slice(-2)).toMatchObject([
      { type: 'error', fatal: true, error: { name: 'TrainerExit' } },
      { type: 'finished', reason: 'interrupted', message: x.message },
    ]);
    const latest = loadCheckpoint(runDir, 'latest');
    expect(latest.manifest.step).toBeGreaterThanOrEqual(stoppedAt);
    expect(listCheckpoints(runDir).length).toBeLessThanOrEqual(settings.keepCheckpoints + 1);
    expect(fs.existsSync(path.join(runDir, 'trainer.lock'))).toBe(false);
  });
});
