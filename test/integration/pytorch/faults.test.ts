import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listCheckpoints } from '../../../main/engine/runs/checkpoint';
import { readRun, readMetrics, readRunConfig, readRunStatus, readRunSummary } from '../../../main/engine/runs/run-store';
import { describeTorch } from '../../support/python';
import { PT_MODEL, preparePtRun, ptSettings, tempRoot, trainStandalone, writeTfjsInitialCheckpoint } from '../../support/pytorch-runs';

/** Bad input for the PyTorch engine: a clear sentence, and nothing lost. */
let root: string;
let prepared: string;
const settings = ptSettings({ epochs: 1 });

beforeAll(async () => {
  root = tempRoot();
  prepared = path.join(root, 'prepared');
  await preparePtRun(prepared, { settings, limit: 24 });
  await writeTfjsInitialCheckpoint(prepared, PT_MODEL, settings);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function copy(name: string): string {
  const dir = path.join(root, name);
  fs.cpSync(prepared, dir, { recursive: true });
  return dir;
}

function editJson(file: string, edit: (v: Record<string, unknown>) => void): void {
  const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(v);
  fs.writeFileSync(file, JSON.stringify(v));
}

describeTorch('the PyTorch engine on bad input', () => {
  it('out of memory: names the batch size and the largest that fits, marks the run failed and keeps its last checkpoint', () => {
    const runDir = copy('oom');
    const before = listCheckpoints(runDir).map((c) => c.name);
    // The fault-injection hook makes every batch above 5 samples run out of memory, as a GPU would.
    const r = trainStandalone(runDir, [], { WORKBENCH_TORCH_FAKE_OOM_ABOVE: '5' });
    expect(r.status).toBe(1);
    const message = 'The CPU ran out of memory at batch size 8; the largest batch that fits is 5: train with --batch 5 or less. The run is marked failed and keeps its last checkpoint.';
    expect(r.stderr).toContain(message);
    expect(readRunStatus(runDir)).toMatchObject({ status: 'failed', message });
    expect(readRunSummary(runDir)).toMatchObject({ reason: 'failed', message });
    expect(listCheckpoints(runDir).map((c) => c.name)).toEqual(before);
    const fatal = readMetrics(runDir).events.find((e) => e.type === 'error' && e.fatal);
    expect(fatal).toMatchObject({ error: { message, user: true } });
  });

  it('refuses a run folder of a newer run format, of an engine it does not know, or without its dataset cache, with a sentence (exit 2)', () => {
    const newer = copy('format-2');
    editJson(path.join(newer, 'config.json'), (c) => { c.format = 2; });
    let r = trainStandalone(newer);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Run format-2 has run format 2; this PyTorch engine reads format 1. It was written by a newer workbench: update this one to train it.');

    const other = copy('engine-jax');
    editJson(path.join(other, 'config.json'), (c) => { c.engine = 'jax'; });
    r = trainStandalone(other);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Run engine-jax was made by engine 'jax'; this PyTorch engine continues runs of tfjs or pytorch only.");
    // The Node side refuses it too, naming the engine.
    expect(() => readRunConfig(other)).toThrow(/malformed at engine: the run was made by engine "jax", which this workbench cannot read/);

    const uncached = copy('no-cache');
    fs.rmSync(path.join(uncached, 'dataset'), { recursive: true });
    r = trainStandalone(uncached);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/has no dataset cache \(dataset\/index\.json\); the PyTorch engine trains a prepared run: create it with `densenet-workbench train --backend pytorch --prepare-only`/);
    expect(readRun(uncached).effective.status).toBe('failed');
  });

  it('refuses a checkpoint of a newer format instead of guessing, and keeps it', () => {
    const runDir = copy('manifest-2');
    const [m] = listCheckpoints(runDir);
    editJson(path.join(runDir, 'checkpoints', `${m.name}.json`), (c) => { c.format = 2; });
    const r = trainStandalone(runDir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`Checkpoint ${m.name} has format 2; this engine reads format 1. It was written by a newer workbench: update this one to continue the run.`);
    expect(fs.existsSync(path.join(runDir, 'checkpoints', `${m.name}.json`))).toBe(true);
  });
});
