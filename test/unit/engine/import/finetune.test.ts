import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { importRun } from '../../../../main/engine/import/import-run';
import { loadCheckpoint } from '../../../../main/engine/runs/checkpoint';
import { readRunStatus } from '../../../../main/engine/runs/run-store';
import { TrainerSession } from '../../../../main/trainer/session';
import type { TrainerEvent } from '../../../../shared/protocol';

/**
 * Fine-tuning end to end: import the torchvision fixture onto a 2-class image folder with frozen
 * features, then let the Training engine's own session resume the imported run.
 */
let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'import-ft-'));
  for (const [cls, colour] of [['red', { r: 220, g: 20, b: 20 }], ['blue', { r: 20, g: 20, b: 220 }]] as const) {
    fs.mkdirSync(path.join(root, 'data', cls), { recursive: true });
    for (let i = 0; i < 5; i++) {
      await sharp({ create: { width: 32, height: 32, channels: 3, background: { ...colour, g: colour.g + 20 * i } } }).png().toFile(path.join(root, 'data', cls, `${i}.png`));
    }
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('import --data DIR --freeze-features, then resume', () => {
  it('trains only the classifier of the imported network', async () => {
    const runDir = path.join(root, 'run');
    const imported = await importRun({
      weights: 'test/fixtures/torchvision/tiny_densenet.safetensors',
      inputShape: [32, 32, 3],
      data: { kind: 'folder', path: path.join(root, 'data') },
      freezeFeatures: true,
      settings: { epochs: 1, batchSize: 4, lr: 0.05, valFraction: 0.2, backend: 'cpu', statsEvery: 0, gradientsEvery: 0 },
      out: runDir,
    });
    expect(imported.headReplaced).toBe(true);
    expect(imported.config.classes).toBe(2);
    const before = new Map(loadCheckpoint(runDir, 'latest').weights.map((w) => [w.name, w.data]));

    const events: TrainerEvent[] = [];
    const session = new TrainerSession((e) => events.push(e));
    session.handle({ type: 'resumeRun', runDir });
    await session.idle();
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(events.some((e) => e.type === 'log' && /Feature layers are frozen/.test(e.message))).toBe(true);
    expect(readRunStatus(runDir)?.status).toBe('finished');

    const after = loadCheckpoint(runDir, 'latest');
    expect(after.manifest.step).toBeGreaterThan(0);
    const changed = (name: string) => {
      const a = before.get(name)!;
      const b = after.weights.find((w) => w.name === name)!.data;
      return a.some((v, i) => v !== b[i]);
    };
    expect(changed('predictions/kernel')).toBe(true);
    // Frozen batch norms run in inference mode (Keras semantics): their moving statistics stay put.
    for (const name of ['conv1_conv/kernel', 'conv2_block1_1_conv/kernel', 'conv3_block2_2_conv/kernel', 'bn/gamma', 'pool2_conv/kernel', 'conv1_bn/moving_mean', 'bn/moving_variance']) {
      expect(changed(name), name).toBe(false);
    }
  });
});
