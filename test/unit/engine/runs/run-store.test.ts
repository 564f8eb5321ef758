import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultTrainSettings } from '../../../../shared/training';
import { MetricsWriter, decodeMetricsLine, encodeMetricsLine } from '../../../../main/engine/runs/metrics-log';
import { recordTrainerDeath } from '../../../../main/engine/runs/run-journal';
import { acquireRunLock, releaseRunLock } from '../../../../main/engine/runs/run-lock';
import {
  allocateRunDir, createRun, createRunAt, deleteRun, listRuns, readMetrics, readRun,
  renameRun, resolveRunDir, writeRunStatus, type NewRunConfig,
} from '../../../../main/engine/runs/run-store';
import { initialRunState, type RunState } from '../../../../shared/run/state';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'train-store-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function newConfig(): NewRunConfig {
  return {
    model: { variant: 'tiny', blocks: [2, 2], growthRate: 4, bottleneck: true, compression: 0.5, initFeatures: 8, stem: 'cifar', dropRate: 0, inputShape: [8, 8, 1], classes: 3 },
    settings: defaultTrainSettings(),
    dataset: { spec: { kind: 'builtin', name: 'mnist' }, name: 'mnist', fingerprint: 'abc', classes: ['a', 'b', 'c'], inputShape: [8, 8, 1], trainSize: 30, valSize: 6 },
    normalization: { mean: [0.1], std: [0.3] },
    seed: 7,
    backend: { name: 'cpu' },
  };
}

const progress = { step: 5, epoch: 1, epochStep: 1, stepsPerEpoch: 4 };
/** status.json saying `status` (and `reason`), owned by `pid`. */
function writeStatus(dir: string, status: Pick<RunState, 'status'> & Partial<RunState>, pid: number | null): void {
  writeRunStatus(dir, { ...initialRunState(path.basename(dir), 3), ...progress, ...status }, { pid, epochs: 3 });
}

describe('run store', () => {
  it('creates a run with a reproducible config and lists it with its status', () => {
    const run = createRun(root, newConfig());
    const opened = readRun(run.dir);
    expect(opened.config.seed).toBe(7);
    expect(opened.config.versions['@tensorflow/tfjs']).toBe('4.22.0');
    expect(opened.config.versions.node).toBe(process.versions.node);
    expect(opened.config.name).toBe('tiny on mnist');
    acquireRunLock(run.dir);
    writeStatus(run.dir, { status: 'running' }, process.pid);
    const [info] = listRuns(root);
    expect(info.id).toBe(run.id);
    expect(info.status).toBe('running');
    expect(info.progress.fraction).toBeCloseTo(5 / 12);
    releaseRunLock(run.dir);
    expect(fs.existsSync(path.join(run.dir, 'trainer.lock'))).toBe(false);
  });

  it('lists a running run whose process died as interrupted', () => {
    const run = createRun(root, newConfig());
    // A pid that cannot be alive (above Linux's pid_max).
    writeStatus(run.dir, { status: 'running' }, 2 ** 30);
    expect(listRuns(root)[0].status).toBe('interrupted');
    writeStatus(run.dir, { status: 'paused' }, process.pid);
    expect(listRuns(root)[0].status).toBe('paused');
    expect(recordTrainerDeath(run.dir, 'failed', 'The trainer exited with code 3.')).toMatchObject({ type: 'finished', reason: 'failed' });
    const info = listRuns(root)[0];
    expect(info.status).toBe('failed');
    expect(info.message).toBe('The trainer exited with code 3.');
    // What the host recorded is in the run's own record too, so a replay ends the same way.
    expect(readMetrics(run.dir).events.map((e) => e.type)).toEqual(['error', 'finished']);
    expect(recordTrainerDeath(run.dir, 'failed', 'again')).toBeNull();
  });

  it('refuses a second live owner but takes over a stale lock', () => {
    const run = createRun(root, newConfig());
    // The parent process is alive and is not us.
    fs.writeFileSync(path.join(run.dir, 'trainer.lock'), JSON.stringify({ pid: process.ppid, hostname: os.hostname() }));
    expect(() => acquireRunLock(run.dir)).toThrow(`is already being trained by process ${process.ppid}`);
    fs.writeFileSync(path.join(run.dir, 'trainer.lock'), JSON.stringify({ pid: 2 ** 30, hostname: os.hostname() }));
    fs.writeFileSync(path.join(run.dir, '.status.json.123.0.tmp'), 'torn');
    acquireRunLock(run.dir);
    expect(JSON.parse(fs.readFileSync(path.join(run.dir, 'trainer.lock'), 'utf8')).pid).toBe(process.pid);
    expect(fs.existsSync(path.join(run.dir, '.status.json.123.0.tmp'))).toBe(false);
  });

  it('renames, resolves by id, refuses to overwrite, and deletes', () => {
    const dir = allocateRunDir(root, 'DenseNet-BC (tiny)');
    expect(path.basename(dir)).toMatch(/^\d{8}-\d{6}-densenet-bc-tiny-[0-9a-f]{4}$/);
    const run = createRunAt(dir, newConfig());
    expect(() => createRunAt(dir, newConfig())).toThrow(/already exists; resume it instead/);
    renameRun(run.dir, '  my run ');
    expect(readRun(run.dir).config.name).toBe('my run');
    expect(() => renameRun(run.dir, '   ')).toThrow(/A run name must have 1 to 200 characters/);
    expect(resolveRunDir(run.id, root)).toBe(run.dir);
    expect(() => resolveRunDir('nope', root)).toThrow(/No run "nope"/);
    writeStatus(run.dir, { status: 'running' }, process.pid);
    expect(() => deleteRun(run.dir)).toThrow(/stop it before deleting it/);
    writeStatus(run.dir, { status: 'finished', reason: 'stopped' }, null);
    deleteRun(run.dir);
    expect(listRuns(root)).toEqual([]);
  });

  it('never reads a torn or corrupted metrics line as valid, and appends after a torn tail', () => {
    const run = createRun(root, newConfig());
    const file = path.join(run.dir, 'metrics.jsonl');
    const log = (i: number) => ({ type: 'log' as const, level: 'info' as const, message: `line ${i} — ünïcode`, time: i });
    const w = new MetricsWriter(file);
    w.append(log(1));
    w.append(log(2));
    w.close();
    // A writer killed mid-line leaves half a line without its newline.
    const line3 = encodeMetricsLine(log(3));
    fs.appendFileSync(file, line3.slice(0, line3.length - 9));
    expect(readMetrics(run.dir)).toEqual({ events: [log(1), log(2)], skipped: 1 });
    const w2 = new MetricsWriter(file);
    w2.append(log(4));
    w2.close();
    expect(readMetrics(run.dir).events).toEqual([log(1), log(2), log(4)]);
    // A flipped character with a valid JSON shape still fails the CRC.
    expect(decodeMetricsLine(encodeMetricsLine(log(5)).trim().replace('line 5', 'line 6'))).toBeNull();
    // A line that checks out but is not a protocol event is rejected too.
    expect(decodeMetricsLine(encodeMetricsLine({ type: 'bogus' } as never).trim())).toBeNull();
  });

  it('reads run folders written before the run lifecycle in today\'s words', () => {
    const run = createRun(root, newConfig());
    const file = path.join(run.dir, 'status.json');
    const old = { pid: null, hostname: os.hostname(), updated: '2026-01-01T00:00:00.000Z', ...progress, epochs: 3, best: null };
    fs.writeFileSync(file, JSON.stringify({ ...old, status: 'stopped' }));
    expect(listRuns(root)[0]).toMatchObject({ status: 'finished', reason: 'stopped' });
    fs.writeFileSync(file, JSON.stringify({ ...old, status: 'finished' }));
    expect(listRuns(root)[0]).toMatchObject({ status: 'finished', reason: 'completed' });
    // A starting run said `loading`; the end was also announced by a `state` event, now `finished` alone.
    const legacy = [
      { type: 'state', state: 'loading', runId: run.id },
      { type: 'state', state: 'finished', runId: run.id },
      { type: 'state', state: 'idle' },
    ];
    fs.writeFileSync(path.join(run.dir, 'metrics.jsonl'), legacy.map((e) => encodeMetricsLine(e as never)).join(''));
    expect(readMetrics(run.dir)).toEqual({ events: [{ type: 'state', state: 'created', runId: run.id }], skipped: 0 });
  });
});
