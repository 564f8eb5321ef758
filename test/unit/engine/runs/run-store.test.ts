import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultTrainSettings } from '../../../../shared/training';
import { MetricsWriter, decodeMetricsLine, encodeMetricsLine } from '../../../../main/engine/runs/metrics-log';
import {
  acquireRunLock, allocateRunDir, createRun, createRunAt, deleteRun, listRuns, markRunDead, openRun, readMetrics,
  releaseRunLock, renameRun, resolveRunDir, writeRunStatus, type NewRunConfig,
} from '../../../../main/engine/runs/run-store';

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

const progress = { step: 5, epoch: 1, epochStep: 1, stepsPerEpoch: 4, epochs: 3, best: null };

describe('run store', () => {
  it('creates a run with a reproducible config and lists it with its status', () => {
    const run = createRun(root, newConfig());
    const opened = openRun(run.dir);
    expect(opened.config.seed).toBe(7);
    expect(opened.config.versions['@tensorflow/tfjs']).toBe('4.22.0');
    expect(opened.config.versions.node).toBe(process.versions.node);
    expect(opened.config.name).toBe('tiny on mnist');
    acquireRunLock(run.dir);
    writeRunStatus(run.dir, { status: 'running', pid: process.pid, ...progress });
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
    writeRunStatus(run.dir, { status: 'running', pid: 2 ** 30, ...progress });
    expect(listRuns(root)[0].status).toBe('interrupted');
    writeRunStatus(run.dir, { status: 'paused', pid: process.pid, ...progress });
    expect(listRuns(root)[0].status).toBe('paused');
    markRunDead(run.dir, 'failed', 'The trainer exited with code 3.');
    const info = listRuns(root)[0];
    expect(info.status).toBe('failed');
    expect(info.message).toBe('The trainer exited with code 3.');
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
    expect(openRun(run.dir).config.name).toBe('my run');
    expect(() => renameRun(run.dir, '   ')).toThrow(/A run name must have 1 to 200 characters/);
    expect(resolveRunDir(run.id, root)).toBe(run.dir);
    expect(() => resolveRunDir('nope', root)).toThrow(/No run "nope"/);
    writeRunStatus(run.dir, { status: 'running', pid: process.pid, ...progress });
    expect(() => deleteRun(run.dir)).toThrow(/stop it before deleting it/);
    writeRunStatus(run.dir, { status: 'stopped', pid: null, ...progress });
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
});
