import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiError, type HostEvent } from '../../../../shared/api';
import { Roots } from '../../../../main/host/roots';
import { WorkbenchService } from '../../../../main/host/workbench-service';
import { startServer, type RunningServer } from '../../../../main/server/server';
import { createWsApi } from '../../../../renderer/src/api/ws';
import { fakePorts, tempTree } from '../../../support/fake-ports';

/** The renderer's WebSocket WorkbenchApi against the real server and service (fake engine). */
let server: RunningServer;
let service: WorkbenchService;
let fakes: ReturnType<typeof fakePorts>;
const tree = tempTree();

beforeAll(async () => {
  fakes = fakePorts(tree.runsDir);
  service = new WorkbenchService({ ports: fakes.ports, roots: await Roots.create([tree.root]), runsDir: tree.runsDir, mode: 'test', version: '9.9.9', restrictPaths: true, maxEventsPerSecond: 1000 });
  server = await startServer({ host: service, staticDir: tree.staticDir });
});
afterAll(async () => {
  await server.close();
  await service.dispose(0);
  rmSync(tree.base, { recursive: true, force: true });
});

function client(onConnection?: (up: boolean) => void) {
  const origin = `http://127.0.0.1:${server.port}`;
  // A browser sends its Origin by itself; the ws package needs to be told.
  class BrowserLikeSocket extends WebSocket {
    constructor(url: string) {
      super(url, { headers: { Origin: origin } });
    }
  }
  return createWsApi({ url: `ws://127.0.0.1:${server.port}/ws?token=${server.token}`, WebSocketImpl: BrowserLikeSocket as unknown as typeof globalThis.WebSocket, onConnection });
}

describe('WebSocket WorkbenchApi', () => {
  it('calls methods, validates replies, and rethrows host errors as ApiError', async () => {
    const ups: boolean[] = [];
    const api = client((up) => ups.push(up));
    // Queued until the socket opens.
    const info = await api.appInfo();
    expect(info).toMatchObject({ apiVersion: 1, version: '9.9.9', mode: 'test', roots: [expect.stringContaining('root')] });
    expect(ups).toEqual([true]);
    expect(await api.listRuns()).toEqual([]);
    const err = await api.pauseRun().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toMatch(/no run is training/);
    expect((err as ApiError).user).toBe(true);
    expect((err as ApiError).channel).toBe('run:pause');
    api.close();
  });
  it('delivers host events to onEvent listeners until they unsubscribe', async () => {
    const api = client();
    const seen: HostEvent[] = [];
    const off = api.onEvent((e) => seen.push(e));
    const model = { variant: 'custom', blocks: [2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'cifar' as const, dropRate: 0, inputShape: [8, 8, 1] as [number, number, number], classes: 2 };
    const { runId } = await api.startRun({ model, settings: { epochs: 1 }, dataset: { kind: 'builtin', name: 'mnist', limit: 10 } });
    const trainer = fakes.trainers[fakes.trainers.length - 1];
    trainer.emit({ type: 'state', state: 'running', runId });
    trainer.emit({ type: 'step', runId, step: 1, epoch: 0, epochStep: 1, stepsPerEpoch: 1, loss: 0.7, accuracy: 0.5, lr: 0.1, imagesPerSec: 3, time: 1 });
    await expect.poll(() => seen.map((e) => e.type)).toEqual(expect.arrayContaining(['runsChanged', 'state', 'step']));
    off();
    const before = seen.length;
    trainer.emit({ type: 'log', level: 'info', message: 'after', time: 2 });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(before);
    trainer.emit({ type: 'finished', runId, reason: 'completed', step: 1, epoch: 1, bestValAccuracy: null, time: 3 });
    api.close();
  });
});
