import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { WorkbenchError } from '../../../shared/errors';
import type { TrainerEvent } from '../../../shared/protocol';
import { METRICS_FILE, readMetricsFile } from './metrics-log';
import { isLive, type FinishReason, type RunStatus } from '../../../shared/run/lifecycle';
import type { BestMetrics, RunState } from '../../../shared/run/state';
import {
  CHECKPOINT_DIR, CONFIG_FILE, STATUS_FILE, SUMMARY_FILE,
  RunConfigFileSchema, RunStatusFileSchema, RunSummaryFileSchema,
  hostInfo, isProcessAlive, packageVersions, readJsonFile, readJsonFileOrNull, writeJsonAtomic,
  type RunConfigFile, type RunStatusFile, type RunSummaryFile,
} from './run-files';

export * from './run-files';

/**
 * The run store: one folder per run under a root (default `runs/`).
 *
 *   runs/<id>/config.json     everything needed to reproduce the run (written once, at creation)
 *   runs/<id>/status.json     status, owning pid, progress, best metrics (rewritten atomically)
 *   runs/<id>/trainer.lock    pid of the trainer process that owns the run, while it runs
 *   runs/<id>/metrics.jsonl   every event, append-only, each line checksummed (./metrics-log)
 *   runs/<id>/checkpoints/    atomic checkpoints (./checkpoint)
 *   runs/<id>/summary.json    written when the run ends
 *
 * A run whose status says it is live but whose trainer process is gone (killed, or its host killed
 * it on the way down) is reported as `interrupted`, and can be resumed from its last checkpoint.
 * docs/run-format.md describes every file.
 */
export interface RunRef {
  id: string;
  dir: string;
}

export interface RunInfo extends RunRef {
  name: string;
  status: RunStatus;
  /** Why a finished run finished. */
  reason: FinishReason | null;
  created: string;
  variant: string;
  dataset: string;
  progress: { epoch: number; step: number; epochStep: number; stepsPerEpoch: number; epochs: number; fraction: number };
  best: BestMetrics | null;
  lastValAccuracy: number | null;
  /** Why it failed or stopped, when known. */
  message?: string;
}

export interface StoredRun extends RunRef {
  config: RunConfigFile;
  status: RunStatusFile | null;
  summary: RunSummaryFile | null;
  /** The status file's status and reason, with a dead owner resolved to `interrupted`. */
  effective: { status: RunStatus; reason: FinishReason | null };
}

export type NewRunConfig = Omit<RunConfigFile, 'format' | 'engine' | 'id' | 'created' | 'versions' | 'host' | 'name'> & {
  name?: string;
  engine?: RunConfigFile['engine'];
};

function newRunId(variant: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const safe = variant.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'run';
  return `${stamp}-${safe}-${randomBytes(2).toString('hex')}`;
}

/**
 * A fresh, unused run folder path under `root` (not created). A host picks the folder this way and
 * passes it in the trainer's `start` command, so it knows where the run will live before the
 * trainer has written anything; the trainer creates it.
 */
export function allocateRunDir(root: string, variant: string, now = new Date()): string {
  for (;;) {
    const dir = path.resolve(root, newRunId(variant, now));
    if (!fs.existsSync(dir)) return dir;
  }
}

/** Creates the run folder `dir`, which must not exist yet, with its config.json. */
export function createRunAt(dir: string, config: NewRunConfig, now = new Date()): RunRef & { config: RunConfigFile } {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new WorkbenchError(`The run folder ${dir} already exists; resume it instead, or choose another folder.`);
  }
  fs.mkdirSync(path.join(dir, CHECKPOINT_DIR), { recursive: true });
  const id = path.basename(dir);
  const file: RunConfigFile = {
    format: 1,
    engine: config.engine ?? 'tfjs',
    id,
    name: config.name ?? `${config.model.variant} on ${config.dataset.name}`,
    created: now.toISOString(),
    model: config.model,
    settings: config.settings,
    dataset: config.dataset,
    normalization: config.normalization,
    seed: config.seed,
    versions: packageVersions(),
    backend: config.backend,
    host: hostInfo(),
  };
  const parsed = RunConfigFileSchema.parse(file);
  writeJsonAtomic(path.join(dir, CONFIG_FILE), parsed);
  return { id, dir: path.resolve(dir), config: parsed };
}

/** Creates `root/<id>/` with its config.json. The caller then takes the lock and writes status. */
export function createRun(root: string, config: NewRunConfig, now = new Date()): RunRef {
  return createRunAt(allocateRunDir(root, config.model.variant, now), config, now);
}

export function readRunConfig(runDir: string): RunConfigFile {
  return readJsonFile(path.join(runDir, CONFIG_FILE), RunConfigFileSchema, 'Run config');
}

export function readRunStatus(runDir: string): RunStatusFile | null {
  return readJsonFileOrNull(path.join(runDir, STATUS_FILE), RunStatusFileSchema, 'Run status');
}

export function readRunSummary(runDir: string): RunSummaryFile | null {
  return readJsonFileOrNull(path.join(runDir, SUMMARY_FILE), RunSummaryFileSchema, 'Run summary');
}

/** Writes status.json from a run's state (shared/run/state.ts) and its owner's pid (null once it has ended). */
export function writeRunStatus(runDir: string, state: RunState, owner: { pid: number | null; epochs: number }): void {
  const { runId: _id, message, epochs: _epochs, ...rest } = state;
  writeJsonAtomic(path.join(runDir, STATUS_FILE), RunStatusFileSchema.parse({
    ...rest, pid: owner.pid, epochs: owner.epochs, hostname: os.hostname(), updated: new Date().toISOString(),
    ...(message !== null ? { message } : {}),
  }));
}

/** A status file as a run state: what a session resumed from it starts with. */
export function stateOfStatusFile(runId: string, file: RunStatusFile | null, epochs: number): RunState {
  return {
    runId, status: file?.status ?? 'created', reason: file?.reason ?? null, message: file?.message ?? null,
    step: file?.step ?? 0, epoch: file?.epoch ?? 0, epochStep: file?.epochStep ?? 0, stepsPerEpoch: file?.stepsPerEpoch ?? 1,
    epochs, best: file?.best ?? null, lastValAccuracy: file?.lastValAccuracy ?? null,
  };
}

export function writeRunSummary(runDir: string, summary: RunSummaryFile): void {
  writeJsonAtomic(path.join(runDir, SUMMARY_FILE), RunSummaryFileSchema.parse(summary));
}

/** A live/dead verdict on the pid in a status file; a pid recorded on another machine is not ours, so dead. */
function ownerAlive(status: RunStatusFile): boolean {
  return status.pid !== null && status.hostname === os.hostname() && isProcessAlive(status.pid);
}

/**
 * How long a live run on another machine is believed without a sign of life: its trainer appends to
 * metrics.jsonl at every step (and every epoch end, however long the validation), so ten minutes of
 * silence means it is gone.
 */
export const FOREIGN_LIVE_MS = 10 * 60_000;

/**
 * The status a reader should believe: a live status whose owner is gone reads as interrupted. The
 * owner is known on this machine by its pid; a trainer on another machine sharing the run folder
 * (torchrun across machines, a GPU box) is believed alive while `lastWrite` (the time metrics.jsonl
 * was last written, in ms) is recent.
 */
export function effectiveStatus(status: RunStatusFile | null, lastWrite: number | null = null, now = Date.now()): { status: RunStatus; reason: FinishReason | null } {
  if (status === null) return { status: 'interrupted', reason: null };
  if (isLive(status.status)) {
    const foreign = status.pid !== null && status.hostname !== os.hostname();
    const alive = foreign ? lastWrite !== null && now - lastWrite < FOREIGN_LIVE_MS : ownerAlive(status);
    if (!alive) return { status: 'interrupted', reason: null };
  }
  return { status: status.status, reason: status.reason };
}

/** When the run's metrics.jsonl was last written, in ms; null when it has none. */
export function lastMetricsWrite(runDir: string): number | null {
  try {
    return fs.statSync(path.join(runDir, METRICS_FILE)).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Resolves a run given as a folder path, an id under `root`, or the name of a run under `root`
 * (what `runs` lists and the UI shows). A name that several runs share is refused with their ids,
 * rather than guessed. Something that looks like a path (it has a separator) is only a path, so a
 * host that resolves `<store>/<id>` never lands on a run by its name.
 */
export function resolveRunDir(run: string, root = 'runs'): string {
  const candidates = [run, path.join(root, run)];
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, CONFIG_FILE))) return path.resolve(dir);
  }
  const named = /[\\/]/.test(run) ? [] : listRuns(root).filter((r) => r.name === run);
  if (named.length === 1) return named[0].dir;
  if (named.length > 1) {
    throw new WorkbenchError(`${named.length} runs under ${path.resolve(root)} are named "${run}" (${named.map((r) => r.id).join(', ')}); name one by its id.`);
  }
  throw new WorkbenchError(`No run "${run}": expected a run folder containing ${CONFIG_FILE}, or the id or name of a run under ${path.resolve(root)}.`);
}

/** Reads a run's config, status and summary. */
export function readRun(runDir: string): StoredRun {
  const config = readRunConfig(runDir);
  const status = readRunStatus(runDir);
  const foreign = status !== null && isLive(status.status) && status.hostname !== os.hostname();
  return { id: config.id, dir: path.resolve(runDir), config, status, summary: readRunSummary(runDir), effective: effectiveStatus(status, foreign ? lastMetricsWrite(runDir) : null) };
}

function toInfo(run: StoredRun): RunInfo {
  const s = run.status;
  const stepsPerEpoch = s?.stepsPerEpoch ?? 1;
  const epochs = s?.epochs ?? run.config.settings.epochs;
  const done = s ? s.epoch * stepsPerEpoch + s.epochStep : 0;
  return {
    id: run.id,
    dir: run.dir,
    name: run.config.name,
    ...run.effective,
    created: run.config.created,
    variant: run.config.model.variant,
    dataset: run.config.dataset.name,
    progress: {
      epoch: s?.epoch ?? 0,
      step: s?.step ?? 0,
      epochStep: s?.epochStep ?? 0,
      stepsPerEpoch,
      epochs,
      fraction: Math.min(1, done / (epochs * stepsPerEpoch)),
    },
    best: run.summary?.best ?? s?.best ?? null,
    lastValAccuracy: run.summary?.last.valAccuracy ?? s?.lastValAccuracy ?? null,
    ...(s?.message ? { message: s.message } : {}),
  };
}

/** Every readable run under `root`, newest first. Folders that are not runs are left out silently. */
export function listRuns(root: string): RunInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const runs: RunInfo[] = [];
  for (const name of names) {
    const dir = path.join(root, name);
    if (!fs.existsSync(path.join(dir, CONFIG_FILE))) continue;
    try {
      runs.push(toInfo(readRun(dir)));
    } catch {
      // A run with a corrupt config is not listable; it is left on disk for the user to inspect.
    }
  }
  return runs.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
}

/** Validated events of a run; torn or corrupt lines are skipped (counted in `skipped`). */
export function readMetrics(runDir: string): { events: TrainerEvent[]; skipped: number } {
  const { events, skipped } = readMetricsFile(path.join(runDir, METRICS_FILE));
  return { events, skipped };
}

export function renameRun(runDir: string, name: string): void {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) {
    throw new WorkbenchError(`A run name must have 1 to 200 characters; got ${JSON.stringify(name)}.`);
  }
  const config = readRunConfig(runDir);
  writeJsonAtomic(path.join(runDir, CONFIG_FILE), { ...config, name: trimmed });
}

/** Deletes a run folder. Refused while a live trainer owns it. */
export function deleteRun(runDir: string): void {
  const run = readRun(runDir);
  if (isLive(run.effective.status)) {
    throw new WorkbenchError(`Run ${run.id} is ${run.effective.status} in process ${run.status?.pid}; stop it before deleting it.`);
  }
  fs.rmSync(run.dir, { recursive: true, force: true });
}
