import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { parseSafetensors } from '../../../../main/engine/import/safetensors';
import { realFs, type AtomicFs } from '../../../../main/engine/runs/atomic-fs';
import { isDataFile, listCheckpoints, loadCheckpoint, writeCheckpoint, type CheckpointState } from '../../../../main/engine/runs/checkpoint';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-ckpt-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function state(step: number, valAccuracy: number | null, fill = step): CheckpointState {
  return {
    step,
    epoch: Math.floor(step / 10),
    epochStep: step % 10,
    stepsPerEpoch: 10,
    lr: 0.1,
    reason: 'interval',
    metrics: { loss: 1, accuracy: 0.5, valLoss: null, valAccuracy },
    best: null,
    optimizer: { name: 'sgd', iterations: step },
    rng: [1, 2, 3, step],
    earlyStopping: { best: null, badEpochs: 0 },
    weights: [
      { name: 'conv1_conv/kernel', shape: [3, 3, 1, 2], data: Float32Array.from({ length: 18 }, (_, i) => fill + i / 100) },
      { name: 'bn/moving_mean', shape: [2], data: Float32Array.from([fill, -fill]) },
    ],
    slots: [{ name: 'conv1_conv/kernel/momentum', shape: [3, 3, 1, 2], data: Float32Array.from({ length: 18 }, (_, i) => -i - fill) }],
  };
}

function files(): string[] {
  return fs.readdirSync(path.join(dir, 'checkpoints')).sort();
}

describe('checkpoints', () => {
  it('round-trips weights, optimizer slots and resume metadata exactly', () => {
    const s = state(20, 0.7);
    writeCheckpoint(dir, s, { keep: 3 });
    const loaded = loadCheckpoint(dir, 'latest');
    expect(loaded.manifest.step).toBe(20);
    expect(loaded.manifest.epoch).toBe(2);
    expect(loaded.manifest.rng).toEqual([1, 2, 3, 20]);
    expect(loaded.manifest.optimizer).toEqual({ name: 'sgd', iterations: 20 });
    expect(loaded.weights.map((w) => w.name)).toEqual(['conv1_conv/kernel', 'bn/moving_mean']);
    expect(Array.from(loaded.weights[0].data)).toEqual(Array.from(s.weights[0].data));
    expect(loaded.weights[0].shape).toEqual([3, 3, 1, 2]);
    expect(Array.from(loaded.slots[0].data)).toEqual(Array.from(s.slots[0].data));
  });

  it('writes its data as a safetensors file that a safetensors reader opens, and still reads raw .bin data', () => {
    const s = state(30, 0.8);
    const m = writeCheckpoint(dir, s, { keep: 3 });
    expect(m.data.file).toMatch(/^step-000000030-[0-9a-f]{8}\.safetensors$/);
    const st = parseSafetensors(fs.readFileSync(path.join(dir, 'checkpoints', m.data.file)));
    expect([...st.tensors.keys()]).toEqual([...s.weights, ...s.slots].map((a) => a.name));
    expect(Array.from(st.tensors.get('conv1_conv/kernel')!.data as Float32Array)).toEqual(Array.from(s.weights[0].data));
    expect(st.tensors.get('conv1_conv/kernel')!.shape).toEqual([3, 3, 1, 2]);

    // A run written before safetensors: the same tensors, raw, offsets from 0.
    const raw = Buffer.concat([...s.weights, ...s.slots].map((a) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)));
    let at = 0;
    const legacy = {
      ...m, name: 'step-000000040', step: 40, data: { ...m.data, file: 'step-000000040-00000000.bin', bytes: raw.length, sha256: createHash('sha256').update(raw).digest('hex') },
      tensors: m.tensors.map((t) => ({ ...t, offset: (at += 4 * t.length) - 4 * t.length })),
    };
    fs.writeFileSync(path.join(dir, 'checkpoints', legacy.data.file), raw);
    fs.writeFileSync(path.join(dir, 'checkpoints', 'step-000000040.json'), JSON.stringify(legacy));
    const loaded = loadCheckpoint(dir, 'latest');
    expect(loaded.manifest.name).toBe('step-000000040');
    expect(Array.from(loaded.slots[0].data)).toEqual(Array.from(s.slots[0].data));
  });

  /** Writes checkpoints with these validation accuracies, carrying the best record as the training loop does (strictly better only). */
  function train(accs: (number | null)[], keep: number): void {
    let best: CheckpointState['best'] = null;
    accs.forEach((a, i) => {
      const step = (i + 1) * 10;
      if (a !== null && (best === null || a > (best.valAccuracy ?? -1))) best = { valAccuracy: a, valLoss: 1 - a, epoch: i, step };
      writeCheckpoint(dir, { ...state(step, a), best }, { keep });
    });
  }

  it('keeps the last N and the best by validation accuracy, and loads either', () => {
    train([0.5, 0.9, 0.6, 0.7, 0.65], 2);
    expect(listCheckpoints(dir).map((m) => m.step)).toEqual([50, 40, 20]);
    // Every binary left belongs to a kept manifest: nothing orphaned.
    expect(files().filter((f) => isDataFile(f))).toHaveLength(3);
    expect(loadCheckpoint(dir, 'best').manifest.step).toBe(20);
    expect(loadCheckpoint(dir, 'latest').manifest.step).toBe(50);
    expect(loadCheckpoint(dir, 'step-000000040').manifest.step).toBe(40);
    expect(() => loadCheckpoint(dir, 'step-000000010')).toThrow(/has no checkpoint "step-000000010"/);
  });

  it('best is the first epoch to reach the top accuracy: later ties do not displace it, and it survives pruning', () => {
    // A small validation set reaches 100% at step 30 and stays there for 15 more checkpoints.
    train([0.5, 0.8, 1, ...Array<number>(15).fill(1)], 3);
    expect(listCheckpoints(dir).map((m) => m.step)).toEqual([180, 170, 160, 30]);
    expect(loadCheckpoint(dir, 'best').manifest.step).toBe(30);
  });

  it('an interval checkpoint carrying the previous epoch\'s accuracy is not taken for the best', () => {
    let best: CheckpointState['best'] = null;
    for (const [step, acc, epochEnd] of [[10, 0.6, true], [15, 0.6, false], [20, 0.5, true]] as const) {
      if (epochEnd && (best === null || acc > (best.valAccuracy ?? -1))) best = { valAccuracy: acc, valLoss: null, epoch: step / 10 - 1, step };
      writeCheckpoint(dir, { ...state(step, acc), best }, { keep: 1 });
    }
    expect(listCheckpoints(dir).map((m) => m.step)).toEqual([20, 10]);
    expect(loadCheckpoint(dir, 'best').manifest.step).toBe(10);
  });

  it('says so when the best checkpoint is not kept, instead of loading another one', () => {
    train([0.5, 0.9, 0.6], 3);
    fs.rmSync(path.join(dir, 'checkpoints', 'step-000000020.json'));
    expect(() => loadCheckpoint(dir, 'best')).toThrow(
      /did not keep the checkpoint of its best epoch \(step 20, validation accuracy 90\.00%\); it has step-000000030, step-000000010\. Use latest/,
    );
    expect(loadCheckpoint(dir, 'latest').manifest.step).toBe(30);
  });

  it('best is the latest when the run never validated', () => {
    train([null, null, null], 2);
    expect(listCheckpoints(dir).map((m) => m.step)).toEqual([30, 20]);
    expect(loadCheckpoint(dir, 'best').manifest.step).toBe(30);
  });

  it('a full disk during a checkpoint leaves the previous one intact and loadable', () => {
    writeCheckpoint(dir, state(10, 0.5), { keep: 1 });
    let written = 0;
    const fullDisk: AtomicFs = {
      ...realFs,
      writeSync: (fd, data, offset, length) => {
        // Accept 40 bytes, then fail as a full disk does.
        if (written >= 40) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        const n = realFs.writeSync(fd, data, offset, Math.min(length, 40 - written));
        written += n;
        return n;
      },
    };
    expect(() => writeCheckpoint(dir, state(20, 0.9), { keep: 1, fs: fullDisk })).toThrow(/ENOSPC/);
    const loaded = loadCheckpoint(dir, 'latest');
    expect(loaded.manifest.step).toBe(10);
    expect(loaded.weights[1].data[0]).toBe(10);
    // No temp file and no stray binary is left behind.
    expect(files().filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files().filter((f) => isDataFile(f))).toHaveLength(1);
  });

  it('a crash between the binary and the manifest leaves the previous checkpoint as latest', () => {
    writeCheckpoint(dir, state(10, 0.5), { keep: 3 });
    let renames = 0;
    const crashOnManifest: AtomicFs = {
      ...realFs,
      renameSync: (from, to) => {
        if (to.endsWith('.json') && ++renames === 1) throw new Error('simulated crash before the manifest rename');
        realFs.renameSync(from, to);
      },
    };
    expect(() => writeCheckpoint(dir, state(20, 0.9), { keep: 3, fs: crashOnManifest })).toThrow(/simulated crash/);
    expect(listCheckpoints(dir).map((m) => m.step)).toEqual([10]);
    expect(loadCheckpoint(dir, 'latest').manifest.step).toBe(10);
  });

  it('a torn or corrupted newest checkpoint is detected and latest falls back to the one before', () => {
    writeCheckpoint(dir, state(10, 0.5), { keep: 3 });
    const newest = writeCheckpoint(dir, state(20, 0.6), { keep: 3 });
    const bin = path.join(dir, 'checkpoints', newest.data.file);
    // A torn write: the binary is shorter than its manifest says.
    fs.truncateSync(bin, 30);
    expect(() => loadCheckpoint(dir, 'step-000000020')).toThrow(/damaged: .* has 30 bytes/);
    expect(loadCheckpoint(dir, 'latest').manifest.step).toBe(10);
    // Same length, flipped bytes: caught by the sha256.
    const third = writeCheckpoint(dir, state(30, 0.6), { keep: 3 });
    const bin3 = path.join(dir, 'checkpoints', third.data.file);
    const bytes = fs.readFileSync(bin3);
    bytes[5] ^= 0xff;
    fs.writeFileSync(bin3, bytes);
    expect(() => loadCheckpoint(dir, 'step-000000030')).toThrow(/sha256/);
    expect(loadCheckpoint(dir, 'latest').manifest.step).toBe(10);
  });

  it('refuses to write non-finite weights, and says which', () => {
    writeCheckpoint(dir, state(10, 0.5), { keep: 3 });
    const bad = state(20, 0.5);
    bad.weights[0].data[4] = NaN;
    expect(() => writeCheckpoint(dir, bad, { keep: 3 })).toThrow(/conv1_conv\/kernel holds a non-finite value \(NaN\) at index 4/);
    expect(listCheckpoints(dir).map((m) => m.step)).toEqual([10]);
  });

  it('says when a run has no checkpoint', () => {
    expect(() => loadCheckpoint(dir, 'latest')).toThrow(/has no checkpoint yet/);
  });
});
