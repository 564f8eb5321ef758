import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../shared/api';
import { Roots } from '../../../main/host/roots';
import { WorkbenchService } from '../../../main/host/workbench-service';
import { fakePorts, tempTree } from '../../support/fake-ports';

/**
 * Inspection through the WorkbenchService: the live run goes to its trainer; any other run to a
 * short-lived worker (a trainer port of its own) that is closed once it answers. Every request ends
 * with one inspectDone, whatever the worker does.
 */
const model = { variant: 'custom', blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 2 };
const now = { now: () => 0, setTimer: (fn: () => void) => setTimeout(fn, 0), clearTimer: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>) };

async function setup() {
  const tree = tempTree();
  const fakes = fakePorts(tree.runsDir);
  const service = new WorkbenchService({ ports: fakes.ports, roots: await Roots.create([tree.root]), runsDir: tree.runsDir, mode: 'test', version: 't', restrictPaths: true, clock: now });
  const events: HostEvent[] = [];
  service.subscribe((b) => events.push(...b));
  const flush = () => new Promise((r) => setTimeout(r, 5));
  // A finished run in the store.
  fakes.runs.runs.set('done-1', { id: 'done-1', name: 'done', status: 'finished', reason: 'completed', created: new Date(0).toISOString(), variant: 'custom', dataset: 'fake', epoch: 2, epochs: 2, step: 6, bestValAccuracy: 0.5, lastValAccuracy: 0.5 });
  return { ...fakes, service, events, flush, tree };
}

describe('inspection of runs', () => {
  it('sends a finished run to a worker, from the best checkpoint by default, passes its events on and closes it', async () => {
    const { service, trainers, events, flush } = await setup();
    const reply = await service.call('inspect:request', { runId: 'done-1', what: 'evaluation' });
    expect(reply.ok).toBe(true);
    const { requestId } = (reply as { value: { requestId: string } }).value;
    expect(trainers).toHaveLength(1);
    expect(trainers[0].sent).toEqual([{ type: 'inspectRun', runDir: expect.stringMatching(/done-1$/), checkpoint: 'best', what: 'evaluation', requestId }]);
    const w = trainers[0];
    w.emit({ type: 'ready', pid: 1, protocol: 1 });
    w.emit({ type: 'log', level: 'warn', message: 'worker chatter', time: 1 });
    w.emit({ type: 'inspectProgress', runId: 'done-1', requestId, what: 'evaluation', done: 5, total: 10, time: 1 });
    w.emit({ type: 'inspectDone', runId: 'done-1', requestId, what: 'evaluation', ok: true, time: 2 });
    await flush();
    expect(events.map((e) => e.type)).toEqual(['inspectProgress', 'inspectDone']);
    expect(w.killed).toBe(true); // closed once it answered
    w.exit(0, null);
    await flush();
    expect(events.filter((e) => e.type === 'inspectDone')).toHaveLength(1);
  });

  it('ends a request whose worker dies with an inspectDone that says so', async () => {
    const { service, trainers, events, flush } = await setup();
    const reply = await service.call('inspect:request', { runId: 'done-1', what: 'ablation', checkpoint: 'latest' });
    const { requestId } = (reply as { value: { requestId: string } }).value;
    trainers[0].exit(null, 'SIGKILL');
    await flush();
    expect(events).toEqual([expect.objectContaining({
      type: 'inspectDone', requestId, ok: false, error: expect.objectContaining({ message: expect.stringMatching(/worker was killed by SIGKILL before answering the ablation request for run done-1/) }),
    })]);
  });

  it('cancels a worker: asks it first, and the request ends cancelled', async () => {
    const { service, trainers, events, flush } = await setup();
    const { requestId } = ((await service.call('inspect:request', { runId: 'done-1', what: 'ablation' })) as { value: { requestId: string } }).value;
    expect(await service.call('inspect:cancel', { requestId })).toEqual({ ok: true, value: null });
    expect(trainers[0].sent.at(-1)).toEqual({ type: 'cancelInspect', requestId });
    trainers[0].exit(0, null); // the worker went away without its own inspectDone
    await flush();
    expect(events.at(-1)).toMatchObject({ type: 'inspectDone', requestId, ok: false, cancelled: true });
    const again = await service.call('inspect:cancel', { requestId });
    expect(again.ok === false && again.error.message).toMatch(/No inspection .* is in progress/);
  });

  it('refuses a third concurrent worker, and a run that does not exist, with sentences', async () => {
    const { service, trainers } = await setup();
    await service.call('inspect:request', { runId: 'done-1', what: 'ablation' });
    await service.call('inspect:request', { runId: 'done-1', what: 'evaluation' });
    const third = await service.call('inspect:request', { runId: 'done-1', what: 'activations', sample: 2 });
    expect(third.ok === false && third.error.message).toMatch(/2 inspections are already running \(ablation of done-1, evaluation of done-1\)/);
    const missing = await service.call('inspect:request', { runId: 'nope', what: 'stats' });
    expect(missing.ok).toBe(false);
    const nobody = await service.call('inspect:request', { what: 'stats' });
    expect(nobody.ok === false && nobody.error.message).toMatch(/Say which run to inspect/);
    expect(trainers).toHaveLength(2);
  });

  it('sends the live run to its own trainer, with a request id it can cancel', async () => {
    const { service, trainers } = await setup();
    const started = await service.call('run:start', { model, settings: { epochs: 2 }, dataset: { kind: 'builtin', name: 'mnist', limit: 20 } });
    const runId = (started as { value: { runId: string } }).value.runId;
    const t = trainers[0];
    const loading = await service.call('inspect:request', { what: 'ablation' });
    expect(loading.ok === false && loading.error.message).toBe(`Run ${runId} is loading; ask again once it is running or paused.`);
    t.emit({ type: 'state', state: 'running', runId });
    const { requestId } = ((await service.call('inspect:request', { what: 'activations', sample: 4, runId })) as { value: { requestId: string } }).value;
    expect(t.sent.at(-1)).toEqual({ type: 'inspect', what: 'activations', sample: 4, requestId });
    expect(await service.call('inspect:cancel', { requestId })).toEqual({ ok: true, value: null });
    expect(t.sent.at(-1)).toEqual({ type: 'cancelInspect', requestId });
    t.emit({ type: 'inspectDone', runId, requestId, what: 'activations', ok: false, cancelled: true, time: 1 });
    expect((await service.call('inspect:cancel', { requestId })).ok).toBe(false);
    expect(trainers).toHaveLength(1);
  });
});
