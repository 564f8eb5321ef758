import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerEvent } from '../../shared/protocol';
import { checkpointDir, isDataFile, listCheckpoints, loadCheckpoint } from '../../main/engine/runs/checkpoint';
import { METRICS_FILE } from '../../main/engine/runs/metrics-log';
import { listRuns, readMetrics, readRun } from '../../main/engine/runs/run-store';
import { forkTrainerHost, type HostExit, type TrainerHost } from '../../main/trainer/host';
import { EventLog, FAULT_MODEL, faultSettings, seededRandom, sleep, waitGone, writePngDataset } from '../support/faults';

/**
 * SIGKILL the real trainer process, forked through the real TrainerHost, at seeded
 * random points of one run, then resume it in a fresh trainer, again and again. Kill points rotate
 * through: a random delay after training starts, the moment a checkpoint temp file appears (inside
 * the checkpoint write), the moment metrics.jsonl grows (right after an append), the moment a
 * status.json temp file appears, and a random delay while the resumed run is still loading.
 * FAULT_TRIALS and FAULT_SEED override the count and the seed (printed in the output).
 */
const TRIALS = Number(process.env.FAULT_TRIALS ?? 20);
const SEED = Number(process.env.FAULT_SEED ?? 9091);
const MODES = ['delay', 'checkpoint-write', 'metrics-append', 'status-write', 'loading'] as const;
type Mode = (typeof MODES)[number];

let root: string;
let dataDir: string;
let runsDir: string;
let spare: Promise<TrainerHost> | null = null;
const hosts: TrainerHost[] = [];

/** A trainer forked ahead of time, so the next trial does not wait for tsx and TF.js to load. */
function forkSpare(): void {
  const host = forkTrainerHost({ stdio: 'ignore' });
  hosts.push(host);
  spare = host.ready.then(() => host);
  // The last spare is killed unused in afterAll; its rejected `ready` is expected then.
  spare.catch(() => undefined);
}

async function takeTrainer(): Promise<TrainerHost> {
  const next = spare!;
  forkSpare();
  return next;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-kill-'));
  dataDir = path.join(root, 'data');
  runsDir = path.join(root, 'runs');
  await writePngDataset(dataDir, 16);
  forkSpare();
});

afterAll(async () => {
  for (const h of hosts) if (h.alive) h.kill('SIGKILL');
  for (const h of hosts) if (h.pid) await waitGone(h.pid, 10_000);
  fs.rmSync(root, { recursive: true, force: true });
});

/** Arms the kill for `mode`; resolves once SIGKILL was sent. */
function armKill(host: TrainerHost, runDir: string, mode: Mode, rand: () => number): Promise<string> {
  return new Promise((resolve) => {
    const watchers: fs.FSWatcher[] = [];
    let timer: NodeJS.Timeout | null = null;
    let fired = false;
    const fire = (why: string) => {
      if (fired) return;
      fired = true;
      // Synchronously, inside the watcher callback: the trainer gets as little time as possible.
      host.kill('SIGKILL');
      for (const w of watchers) w.close();
      if (timer) clearTimeout(timer);
      resolve(why);
    };
    const watch = (dir: string, match: (name: string) => boolean, why: string) => {
      watchers.push(fs.watch(dir, (_event, name) => {
        if (name && match(String(name))) fire(why);
      }));
    };
    if (mode === 'delay' || mode === 'loading') {
      const ms = Math.round(rand() * (mode === 'loading' ? 2500 : 1500));
      timer = setTimeout(() => fire(`${mode} ${ms} ms`), ms);
      return;
    }
    if (mode === 'checkpoint-write') watch(checkpointDir(runDir), (n) => n.endsWith('.tmp'), mode);
    if (mode === 'status-write') watch(runDir, (n) => n.startsWith('.status.json') && n.endsWith('.tmp'), mode);
    if (mode === 'metrics-append') watch(runDir, (n) => n === METRICS_FILE, mode);
    // A watched write that never comes (the run paused, or a slow machine): fall back to a delay.
    timer = setTimeout(() => fire(`${mode} (fallback)`), 8_000);
  });
}

function stepKey(e: TrainerEvent): string {
  return JSON.stringify(e);
}

describe('a trainer killed with SIGKILL at random points', () => {
  it(`leaves a readable run store and a resumable run, ${TRIALS} times over`, async () => {
    const rand = seededRandom(SEED);
    const settings = faultSettings();
    const spec = { kind: 'folder' as const, path: dataDir };
    let runDir: string | null = null;
    let runId = '';
    const tally = { trials: 0, byMode: {} as Record<string, number>, tmpLeftInCheckpoints: 0, orphanBins: 0, stepsSeenByHost: 0, resumes: 0, tears: 0 };

    for (let t = 0; t < TRIALS; t++) {
      const mode: Mode = t === 0 ? 'delay' : MODES[t % MODES.length];
      const at = `trial ${t} of seed ${SEED} (${mode})`;
      const host = await takeTrainer();
      const log = new EventLog(host);
      const exited = new Promise<HostExit>((resolve) => host.on('exit', resolve));
      let expectedFirst = 1;
      if (runDir === null) {
        ({ runDir, runId } = host.start({ runsDir, name: 'kill trials', model: FAULT_MODEL, settings, dataset: spec }));
      } else {
        const ckpts = listCheckpoints(runDir);
        expectedFirst = ckpts.length > 0 ? loadCheckpoint(runDir, 'latest').manifest.step + 1 : 1;
        host.resumeRun(runDir);
        tally.resumes++;
      }
      let why: string;
      if (mode === 'loading') {
        why = await armKill(host, runDir, mode, rand);
      } else {
        const first = await log.waitFor((e) => e.type === 'step');
        // Resume continues from the checkpoint's step (or from 1 when the run had none yet).
        expect(first, at).toMatchObject({ type: 'step', runId, step: expectedFirst });
        why = await armKill(host, runDir, mode, rand);
      }
      const x = await exited;
      tally.trials++;
      tally.byMode[mode] = (tally.byMode[mode] ?? 0) + 1;

      // The host reports the failure, with the signal.
      expect(x, `${at}: ${why}`).toMatchObject({ signal: 'SIGKILL', runId, finished: false });
      expect(x.message).toMatch(/killed by SIGKILL during run .* can be resumed/);

      // The store stays readable and says what happened.
      const listed = listRuns(runsDir).find((r) => r.id === runId);
      expect(listed?.status, at).toMatch(/^(interrupted|failed)$/);
      expect(readRun(runDir).effective.status).toBe(listed?.status);
      expect(fs.existsSync(path.join(runDir, 'trainer.lock')), `${at}: lock left behind`).toBe(false);

      // No metric the host saw is missing on disk: the trainer appends before it sends.
      const onDisk = readMetrics(runDir);
      expect(onDisk.skipped, `${at}: a kill tore a line`).toBe(tally.tears);
      const stored = new Set(onDisk.events.map(stepKey));
      const seen = log.steps();
      tally.stepsSeenByHost += seen.length;
      for (const e of seen) expect(stored.has(stepKey(e)), `${at}: step ${e.step} lost`).toBe(true);
      // The host recorded the death as the trainer would have: a fatal error, then the run's end.
      expect(onDisk.events.slice(-2), at).toMatchObject([
        { type: 'error', fatal: true, error: { name: 'TrainerExit' } },
        { type: 'finished', reason: listed?.status },
      ]);

      // Every checkpoint that is listed verifies (sha256 and length), and the latest loads.
      const ckpts = listCheckpoints(runDir);
      for (const m of ckpts) expect(loadCheckpoint(runDir, m.name).manifest.step, at).toBe(m.step);
      if (ckpts.length > 0) {
        const latest = loadCheckpoint(runDir, 'latest').manifest;
        const lastLogged = Math.max(0, ...onDisk.events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step));
        expect(latest.step, `${at}: checkpoint ahead of the metrics`).toBeLessThanOrEqual(lastLogged);
      }
      const files = fs.readdirSync(checkpointDir(runDir));
      tally.tmpLeftInCheckpoints += files.filter((f) => f.endsWith('.tmp')).length;
      const referenced = new Set(ckpts.map((m) => m.data.file));
      tally.orphanBins += files.filter((f) => isDataFile(f) && !referenced.has(f)).length;
      // Every fourth trial also tears the last line (the host's record of the run's end) in half, as a
      // power cut during the write would: it must be skipped on read, and the next writer must
      // start a fresh line instead of gluing its first event onto the torn one.
      if (t % 4 === 3) {
        const file = path.join(runDir, METRICS_FILE);
        const text = fs.readFileSync(file, 'utf8');
        const lastLine = text.slice(text.lastIndexOf('\n', text.length - 2) + 1);
        fs.truncateSync(file, Buffer.byteLength(text) - Math.ceil(Buffer.byteLength(lastLine) / 2));
        tally.tears++;
        expect(readMetrics(runDir).skipped, `${at}: torn line`).toBe(tally.tears);
      }
      log.dispose();
    }

    // One last resume runs to a clean stop: the run ends `stopped`, and every step from 1 to the
    // last is in metrics.jsonl (replayed steps after a resume appear twice, none is missing).
    const host = await takeTrainer();
    const log = new EventLog(host);
    const expectedFirst = listCheckpoints(runDir!).length > 0 ? loadCheckpoint(runDir!, 'latest').manifest.step + 1 : 1;
    host.resumeRun(runDir!);
    expect(await log.waitFor((e) => e.type === 'step')).toMatchObject({ step: expectedFirst });
    await log.waitFor((e) => e.type === 'step' && e.step >= expectedFirst + 2);
    host.stop();
    const end = await host.finished();
    expect(end).toMatchObject({ type: 'finished', reason: 'stopped', runId });
    expect(readRun(runDir!).effective).toEqual({ status: 'finished', reason: 'stopped' });
    const final = readMetrics(runDir!);
    expect(final.skipped, 'torn lines').toBe(tally.tears);
    const steps = new Set(final.events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step));
    const max = Math.max(...steps);
    expect([...Array(max).keys()].map((i) => i + 1).filter((s) => !steps.has(s)), 'missing steps').toEqual([]);
    await host.close(10_000);
    log.dispose();
    await sleep(0);

    console.log(`[faults] killed trainer: ${tally.trials} SIGKILL trials (seed ${SEED}; ${JSON.stringify(tally.byMode)}), ${tally.resumes + 1} resumes, `
      + `${tally.stepsSeenByHost} step events seen by the host, 0 lost; ${max} steps in metrics.jsonl with no gap; `
      + `kills inside a write left ${tally.tmpLeftInCheckpoints} checkpoint temp file(s) and ${tally.orphanBins} unreferenced binary(ies), none read as a checkpoint; `
      + `${tally.tears} lines torn on purpose, each skipped on read and appended after cleanly.`);
    expect(tally.trials).toBe(TRIALS);
  });
});
