import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../shared/api';
import { PRETRAINED } from '../../../main/engine/import/pretrained';
import { Roots } from '../../../main/host/roots';
import { weightsPort } from '../../../main/host/weights-port';
import { WorkbenchService } from '../../../main/host/workbench-service';
import { fakePorts, tempTree } from '../../support/fake-ports';
import { startWeightsServer, type WeightsServer } from '../../support/weights-server';

/**
 * The WorkbenchService's pretrained-weights calls over the real weights port: the catalog of the
 * torch hub cache, a verified download from a loopback server with progress events, reading a
 * source, and the paths a browser-mode UI may name (under the roots or in the cache only).
 */
const body = fs.readFileSync('test/fixtures/pth/tiny_densenet.pth');
const sha8 = crypto.createHash('sha256').update(body).digest('hex').slice(0, 8);
const FILE = `tiny-${sha8}.pth`;
let server: WeightsServer;

beforeAll(async () => {
  server = await startWeightsServer({ [FILE]: body });
});
afterAll(() => server.close());

async function setup() {
  const tree = tempTree();
  const fakes = fakePorts(tree.runsDir);
  const torchHome = path.join(tree.base, 'torch-home');
  // torchvision's densenet121 entry, but for the fixture file on the loopback server.
  const table = [{ ...PRETRAINED[0], fileName: FILE, hashPrefix: sha8, url: server.url(FILE), megabytes: 0.04 }];
  fakes.ports.weights = weightsPort({ TORCH_HOME: torchHome, WORKBENCH_WEIGHTS_URL_BASE: server.base }, table);
  const service = new WorkbenchService({ ports: fakes.ports, roots: await Roots.create([tree.root]), runsDir: tree.runsDir, mode: 'test', version: 't', restrictPaths: true });
  const events: HostEvent[] = [];
  service.subscribe((b) => events.push(...b));
  return { ...fakes, service, events, tree, cacheDir: path.join(torchHome, 'hub', 'checkpoints') };
}

const model = { variant: 'custom', blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'imagenet', dropRate: 0, inputShape: [224, 224, 3], classes: 2 };

describe('WorkbenchService: pretrained weights', () => {
  it('lists the weights on offer and downloads one into the torch hub cache, with progress events', async () => {
    const { service, events, cacheDir } = await setup();
    const before = await service.call('weights:list', undefined);
    expect(before).toMatchObject({ ok: true, value: { cacheDir, weights: [{ name: 'densenet121', fileName: FILE, cached: null }] } });
    const reply = await service.call('weights:download', { name: 'densenet121' });
    expect(reply).toMatchObject({ ok: true, value: { file: path.join(cacheDir, FILE), bytes: body.length, cached: false } });
    await new Promise((r) => setTimeout(r, 150)); // the throttle's next batch
    const progress = events.filter((e) => e.type === 'weightsDownload');
    expect(progress.at(-1)).toMatchObject({ name: 'densenet121', received: body.length, total: body.length });
    const after = await service.call('weights:list', undefined);
    expect(after.ok && (after.value as { weights: { cached: string | null }[] }).weights[0].cached).toBe(path.join(cacheDir, FILE));
  });

  it('reads a file from the cache or under the roots, and refuses one elsewhere', async () => {
    const { service, tree } = await setup();
    const downloaded = await service.call('weights:download', { name: 'densenet121' });
    const file = (downloaded as { value: { file: string } }).value.file;
    expect(await service.call('weights:describe', { kind: 'weights', file })).toMatchObject({
      ok: true, value: { variant: 'custom', inputShape: [224, 224, 3], classes: 3, normalization: { mean: [0.485, 0.456, 0.406] } },
    });
    const underRoot = path.join(tree.root, 'weights.pth');
    fs.copyFileSync(file, underRoot);
    expect((await service.call('weights:describe', { kind: 'weights', file: underRoot })).ok).toBe(true);
    const outside = path.join(tree.outside, 'weights.pth');
    fs.copyFileSync(file, outside);
    const refused = await service.call('weights:describe', { kind: 'weights', file: outside });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error.message).toMatch(/outside/);
  });

  it('starts a run from a weights file or another run, handing the trainer checked paths', async () => {
    const { service, trainers, tree } = await setup();
    const file = path.join(tree.root, 'weights.pth');
    fs.copyFileSync('test/fixtures/pth/tiny_densenet.pth', file);
    const dataset = { kind: 'builtin', name: 'mnist', limit: 20 };
    expect(await service.call('run:start', { model, settings: { epochs: 2 }, dataset, startFrom: { kind: 'weights', file } })).toMatchObject({ ok: true });
    expect(trainers[0].sent[0]).toMatchObject({ type: 'start', startFrom: { kind: 'weights', file: fs.realpathSync(file) } });
    trainers[0].emit({ type: 'finished', runId: 'run-1', reason: 'completed', step: 1, epoch: 2, bestValAccuracy: null, time: 1 });

    expect(await service.call('run:start', { model, settings: { epochs: 2 }, dataset, startFrom: { kind: 'run', run: 'run-1' } })).toMatchObject({ ok: true });
    expect(trainers[1].sent[0]).toMatchObject({ startFrom: { kind: 'run', run: path.join(tree.runsDir, 'run-1'), checkpoint: 'best' } });

    const outside = path.join(tree.outside, 'w.pth');
    fs.copyFileSync(file, outside);
    trainers[1].emit({ type: 'finished', runId: 'run-2', reason: 'completed', step: 1, epoch: 2, bestValAccuracy: null, time: 1 });
    const refused = await service.call('run:start', { model, settings: { epochs: 2 }, dataset, startFrom: { kind: 'weights', file: outside } });
    expect(refused.ok).toBe(false);
    expect(trainers).toHaveLength(2);
  });
});
