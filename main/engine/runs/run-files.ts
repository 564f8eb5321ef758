import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { ValidDenseNetConfigSchema } from '../../../shared/validation';
import { RunEndSchema } from '../../../shared/run/lifecycle';
import { BestSchema, RunStateSchema } from '../../../shared/run/state';
import { DatasetSpecSchema, TrainSettingsSchema } from '../../../shared/training';
import { WorkbenchError } from '../../../shared/errors';
import { writeFileAtomic } from './atomic-fs';

/**
 * The small JSON files of a run folder and their schemas. Every file is validated when read: a run
 * is a folder users copy around and may edit by hand, so nothing in it is trusted.
 */
export const CONFIG_FILE = 'config.json';
export const STATUS_FILE = 'status.json';
export const SUMMARY_FILE = 'summary.json';
export const LOCK_FILE = 'trainer.lock';
export const CHECKPOINT_DIR = 'checkpoints';

export const NormalizationSchema = z.object({ mean: z.array(z.number()), std: z.array(z.number()) });
export type NormalizationData = z.infer<typeof NormalizationSchema>;

/** The engines that write run folders; a folder from an engine this workbench does not know is refused. */
export const RunEngineSchema = z.enum(['tfjs', 'pytorch'], {
  error: (issue) => `the run was made by engine ${JSON.stringify(issue.input)}, which this workbench cannot read (it reads tfjs and pytorch runs); update the workbench`,
});
export type RunEngine = z.infer<typeof RunEngineSchema>;

export const RunConfigFileSchema = z.object({
  format: z.literal(1),
  /** The engine that created the run; runs from before the PyTorch engine have none (tfjs). */
  engine: RunEngineSchema.default('tfjs'),
  id: z.string(),
  name: z.string(),
  created: z.string(),
  model: ValidDenseNetConfigSchema,
  settings: TrainSettingsSchema,
  dataset: z.object({
    spec: DatasetSpecSchema,
    name: z.string(),
    fingerprint: z.string(),
    classes: z.array(z.string()),
    inputShape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
    trainSize: z.number().int().min(0),
    valSize: z.number().int().min(0),
  }),
  /** Per-channel mean/std of the training split, or null when normalization is off. */
  normalization: NormalizationSchema.nullable(),
  seed: z.number().int(),
  /** Package versions (tfjs, backends, node, the workbench) the run was made with. */
  versions: z.record(z.string(), z.string()),
  /** The backend report of the trainer that created the run (name, and why others were skipped). */
  backend: z.object({ name: z.string() }).passthrough(),
  host: z.object({ hostname: z.string(), platform: z.string(), arch: z.string(), cpus: z.number().int() }),
});
export type RunConfigFile = z.infer<typeof RunConfigFileSchema>;

/**
 * status.json: the run's state (shared/run/state.ts) as its trainer's reducer last left it, plus who
 * owns it. Run folders written before the lifecycle had a `reason` said `stopped` for a run the user
 * stopped and nothing for how a finished one finished; they read as finished (stopped) and
 * finished (completed).
 */
export const RunStatusFileSchema = z.preprocess(
  upgradeLegacyStatus,
  RunStateSchema.omit({ runId: true, message: true, epochs: true }).extend({
    /** Pid and hostname of the trainer process that owns the run while it is live. */
    pid: z.number().int().nullable(),
    hostname: z.string(),
    updated: z.string(),
    epochs: z.number().int().min(1),
    lastValAccuracy: z.number().nullable().default(null),
    /** Why the run ended, in a sentence, when it did not simply complete. */
    message: z.string().optional(),
  }),
);
export type RunStatusFile = z.infer<typeof RunStatusFileSchema>;

function upgradeLegacyStatus(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || 'reason' in raw) return raw;
  const status = (raw as { status?: unknown }).status;
  if (status === 'stopped') return { ...raw, status: 'finished', reason: 'stopped' };
  return { ...raw, reason: status === 'finished' ? 'completed' : null };
}

export const RunSummaryFileSchema = z.object({
  id: z.string(),
  reason: RunEndSchema,
  finished: z.string(),
  step: z.number().int(),
  epoch: z.number().int(),
  seconds: z.number(),
  best: BestSchema.nullable(),
  last: z.object({
    loss: z.number().nullable(),
    accuracy: z.number().nullable(),
    valLoss: z.number().nullable(),
    valAccuracy: z.number().nullable(),
  }),
  message: z.string().optional(),
});
export type RunSummaryFile = z.infer<typeof RunSummaryFileSchema>;

export function readJsonFile<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new WorkbenchError(`${what} ${file} does not exist.`);
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WorkbenchError(`${what} ${file} is not valid JSON.`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WorkbenchError(`${what} ${file} is malformed at ${issue.path.join('.') || '(root)'}: ${issue.message}.`);
  }
  return parsed.data;
}

export function readJsonFileOrNull<T>(file: string, schema: z.ZodType<T>, what: string): T | null {
  try {
    return readJsonFile(file, schema, what);
  } catch {
    return null;
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** True when `pid` names a live process on this machine (EPERM: alive but not ours). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * Linux: a trainer killed together with its host is reparented to init and stays a zombie until
 * init reaps it, which in containers can take a while or never happen; signal 0 still "reaches" it.
 * It is dead all the same, and its run must read as interrupted (the fault suite kills host and trainer together).
 */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state === 'Z' || state === 'X';
  } catch {
    return false; // no /proc (macOS, Windows), or it has just been reaped
  }
}

const require = createRequire(import.meta.url);

/** Versions recorded in config.json so a run can be reproduced. Optional packages show as absent. */
export function packageVersions(): Record<string, string> {
  const versions: Record<string, string> = { node: process.versions.node };
  const own = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../package.json');
  try {
    versions['densenet-workbench'] = (JSON.parse(fs.readFileSync(own, 'utf8')) as { version: string }).version;
  } catch { /* running from an unusual layout; the other versions still help */ }
  for (const pkg of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'zod', 'sharp']) {
    try {
      versions[pkg] = (require(`${pkg}/package.json`) as { version: string }).version;
    } catch { /* not installed (optional dependency dropped) */ }
  }
  return versions;
}

export function hostInfo(): RunConfigFile['host'] {
  return { hostname: os.hostname(), platform: process.platform, arch: process.arch, cpus: os.cpus().length };
}
