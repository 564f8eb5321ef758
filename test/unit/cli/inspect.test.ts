import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { Command } from 'commander';
import { TrainerSession } from '../../../main/trainer/session';
import { registerInspect } from '../../../main/cli/commands/inspect';
import { TrainerEventSchema, type TrainerEvent } from '../../../shared/protocol';
import { TrainSettingsSchema } from '../../../shared/training';
import { WorkbenchError } from '../../../shared/errors';

/**
 * The `inspect` command on a real run: a folder dataset of 8×8 images, trained for one epoch by the
 * trainer session (which runs the inspector's hooks), then inspected from its checkpoint.
 */
let root: string;
let runDir: string;
const live: TrainerEvent[] = [];

async function writeImages(dir: string): Promise<void> {
  for (const [cls, bright] of [['dark-top', 0], ['dark-bottom', 1]] as const) {
    fs.mkdirSync(path.join(dir, cls), { recursive: true });
    for (let i = 0; i < 10; i++) {
      const px = Buffer.alloc(64);
      for (let p = 0; p < 64; p++) px[p] = ((p < 32) === (bright === 1) ? 200 : 40) + ((i * 7 + p * 13) % 30);
      await sharp(px, { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(path.join(dir, cls, `${i}.png`));
    }
  }
}

async function cli(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerInspect(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(['inspect', ...args], { from: 'user' });
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'inspect-cli-'));
  await writeImages(path.join(root, 'data'));
  runDir = path.join(root, 'runs', 'r1');
  const session = new TrainerSession((e) => live.push(e));
  session.handle({
    type: 'start',
    runDir,
    model: {
      variant: 'tiny', blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8,
      stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 2,
    },
    settings: TrainSettingsSchema.parse({ epochs: 1, batchSize: 4, lr: 0.05, valFraction: 0.3, gradientsEvery: 1, statsEvery: 2, backend: 'cpu' }),
    dataset: { kind: 'folder', path: path.join(root, 'data') },
  });
  await session.idle();
}, 120_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('densenet-workbench inspect', () => {
  it('trained a run whose metrics.jsonl holds the inspection events it sent live', async () => {
    const failed = live.find((e) => e.type === 'error');
    expect(failed).toBeUndefined();
    expect(live.some((e) => e.type === 'layerStats')).toBe(true);
    expect(live.some((e) => e.type === 'gradients')).toBe(true);
    expect(live.some((e) => e.type === 'contributions')).toBe(true);
    const { readMetrics } = await import('../../../main/engine/runs/run-store');
    const inspection = (es: TrainerEvent[]) => es.filter((e) => ['layerStats', 'gradients', 'contributions'].includes(e.type));
    expect(inspection(readMetrics(runDir).events)).toEqual(inspection(live));
  });

  it('writes JSON, heat maps and activation sheets, and prints one event per line with --json', async () => {
    const out = path.join(root, 'out');
    const printed = await cli(runDir, '--checkpoint', 'latest', '--stats', '--gradients', '--contributions', '--activations', '2', '--ablation', '--evaluation', '--out', out, '--json');
    const events = printed.trim().split('\n').map((l) => TrainerEventSchema.parse(JSON.parse(l)));
    expect(events.map((e) => e.type)).toEqual(['gradients', 'layerStats', 'contributions', 'activations', 'ablation', 'evaluation']);
    const files = fs.readdirSync(out).sort();
    expect(files).toEqual([
      'ablation.json', 'activations', 'activations.json', 'contributions-block1.png', 'contributions-block2.png',
      'contributions.json', 'evaluation.json', 'gradients.json', 'gradients.png', 'stats.json',
    ]);
    const heat = await sharp(path.join(out, 'contributions-block2.png')).metadata();
    // Block 2: 3 targets (2 layers + classifier) × 3 sources, 24-px cells with 1-px gaps.
    expect([heat.format, heat.width, heat.height]).toEqual(['png', 3 * 25 + 1, 3 * 25 + 1]);
    const sheets = fs.readdirSync(path.join(out, 'activations')).sort();
    expect(sheets).toEqual(['conv1.png', 'conv2_block1.png', 'conv2_block2.png', 'conv3_block1.png', 'conv3_block2.png', 'pool2.png']);
    const evaluation = events[5];
    if (evaluation.type !== 'evaluation') throw new Error('unreachable');
    expect(evaluation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(evaluation.perClass.reduce((a, c) => a + c.support, 0));
  });

  it('takes an image file for activation maps', async () => {
    const out = path.join(root, 'out-image');
    const printed = await cli(runDir, '--activations', path.join(root, 'data', 'dark-top', '0.png'), '--out', out);
    expect(printed).toMatch(/^Activation maps of sample 0 \(0\.png\): conv1 \[/);
    expect(fs.existsSync(path.join(out, 'activations', 'pool2.png'))).toBe(true);
  });

  it('says what to do when nothing is asked for, or the sample does not exist', async () => {
    await expect(cli(runDir)).rejects.toThrow(WorkbenchError);
    await expect(cli(runDir)).rejects.toThrow(/Say what to inspect: one or more of --stats/);
    await expect(cli(runDir, '--activations', '999')).rejects.toThrow('Sample 999 is outside the validation split, which has 6 samples (0..5).');
    await expect(cli(path.join(root, 'nope'), '--stats')).rejects.toThrow(/No run/);
  });
});
