import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { DenseNetConfig } from '../../../../shared/config';
import { TrainerEventSchema, type TrainerEvent } from '../../../../shared/protocol';
import { TrainSettingsSchema } from '../../../../shared/training';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { runTrainingLoop, type TrainData } from '../../../../main/engine/train/loop';
import { TrainControl } from '../../../../main/engine/train/control';
import { MetricsWriter, readMetricsFile } from '../../../../main/engine/runs/metrics-log';
import { OnDemandInspection } from '../../../../main/engine/inspect/on-demand';
import { Inspector } from '../../../../main/engine/inspect/inspector';
import { memoryBatches } from '../../../../main/engine/inspect/evaluation';

const config: DenseNetConfig = {
  variant: 'tiny', blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8,
  stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 2,
};

/** Two classes a tiny net separates quickly: bright top half vs bright bottom half, plus noise. */
function makeData(n: number, seed: number) {
  const x = new Float32Array(n * 64);
  const y = new Int32Array(n);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let p = 0; p < 64; p++) x[i * 64 + p] = ((p < 32) === (y[i] === 0) ? 0.8 : 0.2) + 0.2 * (rand() - 0.5);
  }
  return { x, y };
}

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inspect-session-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('inspection during training', () => {
  it('emits stats, gradients and contributions on cadence; a reopened run yields the same events; no tensor leaks', async () => {
    const train = makeData(12, 1);
    const val = makeData(12, 2);
    const batchSize = 4;
    const data: TrainData = {
      classes: 2,
      stepsPerEpoch: 3,
      rngState: () => null,
      setRngState: () => {},
      trainBatches: (_epoch, skip) =>
        (async function* () {
          let b = 0;
          for await (const batch of memoryBatches(train.x, train.y, batchSize)()) if (b++ >= skip) yield batch;
        })(),
      valBatches: () => memoryBatches(val.x, val.y, batchSize)(),
    };
    const settings = TrainSettingsSchema.parse({ epochs: 2, batchSize, lr: 0.05, statsEvery: 2, gradientsEvery: 2, checkpointEvery: 1000 });
    const model = buildDenseNet(config);
    const writer = new MetricsWriter(path.join(dir, 'metrics.jsonl'));
    const live: TrainerEvent[] = [];
    const emit = (e: TrainerEvent) => {
      live.push(e);
      writer.append(e);
    };
    const valSplit = {
      size: 12, labels: val.y, sampleShape: [8, 8, 1] as [number, number, number],
      read: async (ix: readonly number[]) => Float32Array.from(ix.flatMap((i) => [...val.x.subarray(i * 64, (i + 1) * 64)])),
      name: (i: number) => `val/${i}.png`,
    };
    const inspector = new Inspector({ runId: 'r1', model, modelConfig: config, classes: ['top', 'bottom'], val: memoryBatches(val.x, val.y, 5), valSplit, emit, probeSize: 6 });
    const tensorsBefore = tf.memory().numTensors;
    const result = await runTrainingLoop({
      runId: 'r1', model, data, settings, control: new TrainControl(),
      hooks: inspector.wrapHooks({ onEvent: emit }),
    });
    expect(result.reason).toBe('completed');
    // On-demand events after training, as the CLI and the UI ask for them.
    const onDemand = new OnDemandInspection(inspector, { runId: 'r1', emit });
    await onDemand.run({ what: 'activations', sample: 3 });
    await onDemand.run({ what: 'ablation', requestId: 'a1' });
    await onDemand.run({ what: 'evaluation' });
    await onDemand.run({ what: 'activations', sample: 99, requestId: 'bad' });
    inspector.dispose();
    writer.close();
    // Inspection leaves nothing behind: the run leaks exactly what the same loop leaks without it
    // (0 once the loop itself is leak-free; it is compared rather than assumed).
    const leaked = tf.memory().numTensors - tensorsBefore;
    const plain = buildDenseNet(config);
    const plainBefore = tf.memory().numTensors;
    await runTrainingLoop({ runId: 'r0', model: plain, data, settings: { ...settings, epochs: 1, statsEvery: 0, gradientsEvery: 0 }, control: new TrainControl() });
    expect(leaked).toBe(tf.memory().numTensors - plainBefore);
    plain.dispose();

    const of = <T extends TrainerEvent['type']>(t: T) => live.filter((e): e is Extract<TrainerEvent, { type: T }> => e.type === t);
    // 6 steps: stats every 2 steps (none at an epoch's last step, which has its epoch-end probe).
    expect(of('layerStats').map((e) => [e.step, e.epochEnd])).toEqual([[2, false], [3, true], [4, false], [6, true]]);
    expect(of('layerStats')[0].layers.map((l) => l.layer)).toEqual([
      'conv1', 'conv2_block1', 'conv2_block2', 'pool2', 'conv3_block1', 'conv3_block2', 'predictions',
    ]);
    // Gradients every 2 steps, each right after its step's event.
    expect(of('gradients').map((e) => e.step)).toEqual([2, 4, 6]);
    const gi = live.findIndex((e) => e.type === 'gradients');
    expect(live[gi - 1]).toMatchObject({ type: 'step', step: 2 });
    const g = of('gradients')[0].layers;
    expect(g[0].layer).toBe('conv1_conv');
    expect(g.every((l) => l.gradNorm > 0 && (l.updateRatio ?? 0) > 0 && l.weightNorm > 0)).toBe(true);
    expect(of('contributions').map((e) => e.epoch)).toEqual([0, 1]);
    expect(of('contributions')[1].blocks[1].targets).toEqual(['conv3_block1', 'conv3_block2', 'predictions']);
    expect(of('activations')[0]).toMatchObject({ sample: 3, label: 'bottom' });
    expect(of('ablation')[0].layers.map((l) => l.layer)).toEqual(['conv2_block1', 'conv2_block2', 'conv3_block1', 'conv3_block2']);
    expect(of('evaluation')[0].confusion.flat().reduce((a, b) => a + b, 0)).toBe(12);
    for (const m of of('evaluation')[0].misclassified) {
      expect(m.file).toBe(`val/${m.index}.png`);
      const png = await sharp(Buffer.from(m.thumbnail!, 'base64')).metadata();
      expect([png.format, png.width, png.height]).toEqual(['png', 8, 8]);
    }
    // Every request ends with one inspectDone; a bad one says why, as data.
    expect(of('inspectDone').map((e) => [e.what, e.ok, e.requestId])).toEqual([
      ['activations', true, undefined], ['ablation', true, 'a1'], ['evaluation', true, undefined], ['activations', false, 'bad'],
    ]);
    expect(of('inspectDone')[3].error).toMatchObject({ user: true, message: expect.stringMatching(/Sample 99 is outside the validation split/) });
    expect(of('inspectProgress').filter((e) => e.requestId === 'a1').at(-1)).toMatchObject({ what: 'ablation', done: 60, total: 60 });
    for (const e of live) expect(TrainerEventSchema.safeParse(e).success).toBe(true);

    // Reopen: the run store's log gives back exactly the live sequence.
    const reopened = readMetricsFile(path.join(dir, 'metrics.jsonl'));
    expect(reopened.skipped).toBe(0);
    expect(reopened.events).toEqual(live);
    model.dispose();
  });
});
