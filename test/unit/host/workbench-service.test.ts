import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../shared/api';
import type { Clock } from '../../../main/host/throttle';
import { Roots } from '../../../main/host/roots';
import { WorkbenchService } from '../../../main/host/workbench-service';
import { fakePorts, tempTree } from '../../support/fake-ports';

/** The transport-free WorkbenchService: run lifecycle, crash handling, throttled events. */
class ManualClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void }[] = [];
  now = () => this.t;
  setTimer = (fn: () => void, ms: number) => {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return timer;
  };
  clearTimer = (h: unknown) => {
    this.timers = this.timers.filter((x) => x !== h);
  };
  advance(ms: number) {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
  }
}

const model = { variant: 'custom', blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 2 };
const step = (n: number) => ({ type: 'step' as const, runId: 'run-1', step: n, epoch: 0, epochStep: n, stepsPerEpoch: 100, loss: 1, accuracy: 0.5, lr: 0.1, imagesPerSec: 10, time: n });

async function setup() {
  const tree = tempTree();
  const fakes = fakePorts(tree.runsDir);
  const clock = new ManualClock();
  const service = new WorkbenchService({ ports: fakes.ports, roots: await Roots.create([tree.root]), runsDir: tree.runsDir, mode: 'test', version: 't', restrictPaths: true, clock });
  const batches: HostEvent[][] = [];
  service.subscribe((b) => batches.push(b));
  return { ...fakes, service, clock, batches, tree };
}

describe('WorkbenchService', () => {
  it('starts a run: validates the config, creates the run, sends start with its folder', async () => {
    const { service, trainers } = await setup();
    const reply = await service.call('run:start', { model, settings: { epochs: 2 }, dataset: { kind: 'builtin', name: 'mnist', limit: 20 } });
    expect(reply).toEqual({ ok: true, value: { runId: 'run-1' } });
    expect(trainers).toHaveLength(1);
    expect(trainers[0].sent[0]).toMatchObject({ type: 'start', runDir: expect.stringContaining('run-1'), settings: { epochs: 2, lr: 0.1, momentum: 0.9 } });
  });
  it('refuses an invalid architecture with every problem named', async () => {
    const { service, trainers } = await setup();
    const reply = await service.call('run:start', { model: { ...model, growthRate: 0, compression: 1.5 }, settings: {}, dataset: { kind: 'builtin', name: 'mnist' } });
    expect(reply.ok).toBe(false);
    if (!reply.ok) {
      expect(reply.error.message).toMatch(/Growth rate k/);
      expect(reply.error.message).toMatch(/Compression θ must be in \(0, 1\]; got 1.5/);
    }
    expect(trainers).toHaveLength(0);
  });
  it('routes pause/resume/stop by state and refuses a second concurrent run', async () => {
    const { service, trainers } = await setup();
    await service.call('run:start', { model, settings: {}, dataset: { kind: 'builtin', name: 'mnist' } });
    const t = trainers[0];
    expect((await service.call('run:pause', undefined)).ok).toBe(false); // still loading
    t.emit({ type: 'state', state: 'running', runId: 'run-1' });
    expect(await service.call('run:pause', {})).toEqual({ ok: true, value: null });
    t.emit({ type: 'state', state: 'paused', runId: 'run-1' });
    expect(await service.call('run:active', undefined)).toMatchObject({ ok: true, value: { runId: 'run-1', status: 'paused' } });
    expect((await service.call('run:resume', undefined)).ok).toBe(true);
    const second = await service.call('run:start', { model, settings: {}, dataset: { kind: 'builtin', name: 'mnist' } });
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.error.message).toMatch(/stop it before starting another/);
    expect((await service.call('run:stop', undefined)).ok).toBe(true);
    expect(t.sent.map((c) => c.type)).toEqual(['start', 'pause', 'resume', 'stop']);
    // Once finished, a new run starts in a fresh trainer and the old process is let go.
    t.emit({ type: 'finished', runId: 'run-1', reason: 'stopped', step: 3, epoch: 0, bestValAccuracy: null, time: 1 });
    expect((await service.call('run:start', { model, settings: {}, dataset: { kind: 'builtin', name: 'mnist' } })).ok).toBe(true);
    expect(t.killed).toBe(true);
    expect(trainers).toHaveLength(2);
  });
  it('reports a killed trainer, ends the run interrupted as the run store says, and stays usable', async () => {
    const { service, trainers, clock, batches } = await setup();
    await service.call('run:start', { model, settings: {}, dataset: { kind: 'builtin', name: 'mnist' } });
    trainers[0].emit({ type: 'state', state: 'running', runId: 'run-1' });
    trainers[0].exit(null, 'SIGKILL', 'The trainer process was killed by SIGKILL during run run-1; the run is marked interrupted and can be resumed from its last checkpoint.');
    await new Promise((r) => setTimeout(r, 0));
    clock.advance(1000);
    const crash = batches.flat().find((e) => e.type === 'trainerExit');
    expect(crash).toMatchObject({ runId: 'run-1', signal: 'SIGKILL' });
    expect(crash && 'message' in crash ? crash.message : '').toMatch(/killed by SIGKILL.*marked interrupted.*Continue it from Runs/);
    expect(await service.call('run:active', undefined)).toMatchObject({ ok: true, value: { runId: 'run-1', status: 'interrupted', reason: null } });
    expect((await service.call('run:continue', { runId: 'run-1' })).ok).toBe(true);
    expect(trainers[1].sent[0]).toMatchObject({ type: 'resumeRun' });
  });
  it('throttles step events to the window but never drops epoch events', async () => {
    const { service, trainers, clock, batches } = await setup();
    await service.call('run:start', { model, settings: {}, dataset: { kind: 'builtin', name: 'mnist' } });
    batches.length = 0;
    clock.advance(1000);
    batches.length = 0;
    const t = trainers[0];
    for (let i = 1; i <= 200; i++) {
      t.emit(step(i));
      if (i === 100) t.emit({ type: 'epoch', runId: 'run-1', epoch: 0, step: 100, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: 0.5, lr: 0.1, seconds: 1, time: 1 });
      clock.advance(1); // 200 events in 200 ms
    }
    clock.advance(100);
    const all = batches.flat();
    expect(batches.length).toBeLessThanOrEqual(6); // ≤ 20 per second over ~0.3 s
    expect(all.filter((e) => e.type === 'epoch')).toHaveLength(1);
    const steps = all.filter((e) => e.type === 'step');
    expect(steps.length).toBeLessThan(20);
    expect(steps[steps.length - 1]).toMatchObject({ step: 200 });
  });
  it('renames and deletes runs, announcing the change; refuses to delete the live run', async () => {
    const { service, trainers, clock, batches } = await setup();
    await service.call('run:start', { model, settings: {}, dataset: { kind: 'builtin', name: 'mnist' } });
    trainers[0].emit({ type: 'state', state: 'running', runId: 'run-1' });
    const del = await service.call('run:delete', { runId: 'run-1' });
    expect(del.ok).toBe(false);
    const renamed = await service.call('run:rename', { runId: 'run-1', name: '  tuned  ' });
    expect(renamed).toMatchObject({ ok: true, value: { name: 'tuned' } });
    trainers[0].emit({ type: 'finished', runId: 'run-1', reason: 'completed', step: 1, epoch: 1, bestValAccuracy: 0.5, time: 1 });
    expect((await service.call('run:delete', { runId: 'run-1' })).ok).toBe(true);
    clock.advance(1000);
    expect(batches.flat().some((e) => e.type === 'runsChanged')).toBe(true);
    expect(await service.call('run:list', undefined)).toEqual({ ok: true, value: [] });
  });
  it('keeps export folders inside the run store or the roots', async () => {
    const { service, trainers, tree } = await setup();
    await service.call('run:start', { model, settings: {}, dataset: { kind: 'builtin', name: 'mnist' } });
    trainers[0].emit({ type: 'finished', runId: 'run-1', reason: 'completed', step: 1, epoch: 1, bestValAccuracy: 0.5, time: 1 });
    const inRoot = await service.call('export:run', { runId: 'run-1', format: 'onnx', outDir: `${tree.root}/exports/new` });
    expect(inRoot).toMatchObject({ ok: true, value: { outDir: expect.stringContaining('exports/new') } });
    const out = await service.call('export:run', { runId: 'run-1', format: 'onnx', outDir: tree.outside });
    expect(out.ok).toBe(false);
    const def = await service.call('export:run', { runId: 'run-1', format: 'tfjs' });
    expect(def).toMatchObject({ ok: true, value: { outDir: expect.stringMatching(/run-1\/exports\/tfjs$/) } });
  });
  it('closes a live trainer gracefully on dispose, without reporting a crash', async () => {
    const { service, trainers, batches } = await setup();
    await service.call('run:start', { model, settings: {}, dataset: { kind: 'builtin', name: 'mnist' } });
    trainers[0].emit({ type: 'state', state: 'running', runId: 'run-1' });
    await service.dispose(1000);
    trainers[0].exit(0, null);
    expect(trainers[0].killed).toBe(true);
    expect(batches.flat().some((e) => e.type === 'trainerExit')).toBe(false);
  });
});
