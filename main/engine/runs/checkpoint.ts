import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { WorkbenchError } from '../../../shared/errors';
import { realFs, writeFileAtomic, type AtomicFs } from './atomic-fs';
import { BestSchema } from '../../../shared/run/state';
import { CHECKPOINT_DIR } from './run-files';

/**
 * Checkpoints: `checkpoints/step-<step>.json` (the manifest) plus the binary it names,
 * `step-<step>-<nonce>.bin` (every tensor as little-endian float32, one after another).
 *
 * Commit protocol: write the binary atomically, then the manifest atomically (temp + fsync + rename +
 * fsync dir). The manifest carries the binary's sha256 and byte length, so a checkpoint exists only
 * once its manifest is in place and verifies; a crash at any point leaves the previous checkpoints
 * as they were. Pruning happens only after the new manifest is durable.
 */
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

const TensorEntrySchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().min(0)),
  group: z.enum(['weights', 'optimizer']),
  /** Byte offset and float count in the binary. */
  offset: z.number().int().min(0),
  length: z.number().int().min(0),
});

export const CheckpointManifestSchema = z.object({
  format: z.literal(1),
  name: z.string(),
  created: z.string(),
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  /** Steps already done in `epoch` (0 at an epoch boundary: `epoch` is then the next one to run). */
  epochStep: z.number().int().min(0),
  stepsPerEpoch: z.number().int().min(1),
  /** The learning rate of the last step taken, for display; resume recomputes it from `step`. */
  lr: z.number(),
  reason: z.enum(['interval', 'epoch', 'snapshot', 'stop', 'final']),
  metrics: z.object({
    loss: z.number().nullable(),
    accuracy: z.number().nullable(),
    valLoss: z.number().nullable(),
    valAccuracy: z.number().nullable(),
  }),
  best: BestSchema.nullable(),
  optimizer: z.object({ name: z.enum(['sgd', 'adam', 'adamw']), iterations: z.number().int().min(0) }),
  /** Data RNG state at the start of `epoch` (opaque to the store), and early-stopping bookkeeping. */
  rng: z.unknown(),
  earlyStopping: z.object({ best: z.number().nullable(), badEpochs: z.number().int().min(0) }),
  data: z.object({ file: z.string(), bytes: z.number().int().min(0), sha256: z.string().length(64), byteOrder: z.literal('little') }),
  tensors: z.array(TensorEntrySchema),
});
export type CheckpointManifest = z.infer<typeof CheckpointManifestSchema>;

export type CheckpointState = Omit<CheckpointManifest, 'format' | 'name' | 'created' | 'data' | 'tensors'> & {
  weights: NamedArray[];
  /** Optimizer slots, named `<variable>/<slot>` (e.g. `conv1_conv/kernel/momentum`). */
  slots: NamedArray[];
};

export interface LoadedCheckpoint {
  manifest: CheckpointManifest;
  weights: NamedArray[];
  slots: NamedArray[];
}

export interface WriteCheckpointOptions {
  /** Keep this many most recent checkpoints, plus the best by validation accuracy. */
  keep: number;
  fs?: AtomicFs;
}

export function checkpointDir(runDir: string): string {
  return path.join(runDir, CHECKPOINT_DIR);
}

function manifestName(step: number): string {
  return `step-${String(step).padStart(9, '0')}`;
}

/** Thrown instead of writing a checkpoint whose weights hold NaN or ±Infinity: the run has diverged. */
export class NonFiniteWeightsError extends WorkbenchError {
  constructor(message: string) {
    super(message, { user: false });
    this.name = 'NonFiniteWeightsError';
  }
}

function assertFinite(arrays: NamedArray[], what: string): void {
  for (const a of arrays) {
    for (let i = 0; i < a.data.length; i++) {
      if (!Number.isFinite(a.data[i])) {
        throw new NonFiniteWeightsError(`Refusing to checkpoint: ${what} ${a.name} holds a non-finite value (${a.data[i]}) at index ${i}.`);
      }
    }
  }
}

/** Writes one checkpoint atomically and prunes old ones. Returns its manifest. */
export function writeCheckpoint(runDir: string, state: CheckpointState, options: WriteCheckpointOptions): CheckpointManifest {
  const fsImpl = options.fs ?? realFs;
  assertFinite(state.weights, 'weight');
  assertFinite(state.slots, 'optimizer slot');
  const dir = checkpointDir(runDir);
  fs.mkdirSync(dir, { recursive: true });
  const name = manifestName(state.step);
  const binName = `${name}-${randomBytes(4).toString('hex')}.bin`;

  const all: [NamedArray, 'weights' | 'optimizer'][] = [
    ...state.weights.map((w) => [w, 'weights'] as [NamedArray, 'weights']),
    ...state.slots.map((s) => [s, 'optimizer'] as [NamedArray, 'optimizer']),
  ];
  const totalFloats = all.reduce((n, [a]) => n + a.data.length, 0);
  const buffer = new Float32Array(totalFloats);
  const tensors: CheckpointManifest['tensors'] = [];
  let at = 0;
  for (const [a, group] of all) {
    const expected = a.shape.reduce((p, d) => p * d, 1);
    if (expected !== a.data.length) {
      throw new WorkbenchError(`Tensor ${a.name} has shape [${a.shape.join(', ')}] (${expected} values) but ${a.data.length} values.`, { user: false });
    }
    buffer.set(a.data, at);
    tensors.push({ name: a.name, shape: a.shape, group, offset: at * 4, length: a.data.length });
    at += a.data.length;
  }
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileAtomic(path.join(dir, binName), bytes, fsImpl);

  const { weights: _w, slots: _s, ...meta } = state;
  const manifest: CheckpointManifest = CheckpointManifestSchema.parse({
    format: 1,
    name,
    created: new Date().toISOString(),
    ...meta,
    data: { file: binName, bytes: bytes.byteLength, sha256, byteOrder: 'little' },
    tensors,
  });
  try {
    writeFileAtomic(path.join(dir, `${name}.json`), JSON.stringify(manifest), fsImpl);
  } catch (err) {
    fs.rmSync(path.join(dir, binName), { force: true });
    throw err;
  }
  prune(dir, options.keep, binName);
  return manifest;
}

/** Manifests that parse, newest first. Their binaries are verified only when loaded. */
export function listCheckpoints(runDir: string): CheckpointManifest[] {
  const dir = checkpointDir(runDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const manifests: CheckpointManifest[] = [];
  for (const file of names) {
    if (!/^step-\d{9}\.json$/.test(file)) continue;
    try {
      const parsed = CheckpointManifestSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
      if (parsed.success && parsed.data.name === file.slice(0, -5)) manifests.push(parsed.data);
    } catch { /* unreadable manifest: not a checkpoint */ }
  }
  return manifests.sort((a, b) => b.step - a.step);
}

function bestOf(manifests: CheckpointManifest[]): CheckpointManifest | null {
  let best: CheckpointManifest | null = null;
  for (const m of manifests) {
    const acc = m.metrics.valAccuracy;
    if (acc === null) continue;
    if (best === null || acc > (best.metrics.valAccuracy as number)) best = m;
  }
  return best;
}

function prune(dir: string, keep: number, justWritten: string): void {
  const manifests = listCheckpoints(path.dirname(dir));
  const best = bestOf(manifests);
  const kept = new Set(manifests.slice(0, keep).map((m) => m.name));
  if (best) kept.add(best.name);
  // Manifests go first: a manifest without its binary would be a broken checkpoint, the reverse is an orphan.
  for (const m of manifests) {
    if (!kept.has(m.name)) fs.rmSync(path.join(dir, `${m.name}.json`), { force: true });
  }
  const referenced = new Set(manifests.filter((m) => kept.has(m.name)).map((m) => m.data.file));
  referenced.add(justWritten);
  for (const file of fs.readdirSync(dir)) {
    if (file.endsWith('.bin') && !referenced.has(file)) fs.rmSync(path.join(dir, file), { force: true });
  }
}

function readVerified(dir: string, manifest: CheckpointManifest): LoadedCheckpoint {
  const file = path.join(dir, manifest.data.file);
  if (path.basename(manifest.data.file) !== manifest.data.file) {
    throw new WorkbenchError(`Checkpoint ${manifest.name} names a data file outside its folder: ${manifest.data.file}.`);
  }
  const buf = fs.readFileSync(file);
  if (buf.byteLength !== manifest.data.bytes) {
    throw new WorkbenchError(`Checkpoint ${manifest.name} is damaged: ${manifest.data.file} has ${buf.byteLength} bytes, its manifest says ${manifest.data.bytes}.`);
  }
  if (createHash('sha256').update(buf).digest('hex') !== manifest.data.sha256) {
    throw new WorkbenchError(`Checkpoint ${manifest.name} is damaged: the sha256 of ${manifest.data.file} does not match its manifest.`);
  }
  const weights: NamedArray[] = [];
  const slots: NamedArray[] = [];
  for (const t of manifest.tensors) {
    const expected = t.shape.reduce((p, d) => p * d, 1);
    if (expected !== t.length || t.offset + t.length * 4 > buf.byteLength || t.offset % 4 !== 0) {
      throw new WorkbenchError(`Checkpoint ${manifest.name} is damaged: tensor ${t.name} does not fit its data file.`);
    }
    // Copy out: the Buffer may sit at an unaligned offset of a shared pool.
    const data = new Float32Array(t.length);
    new Uint8Array(data.buffer).set(buf.subarray(t.offset, t.offset + t.length * 4));
    (t.group === 'weights' ? weights : slots).push({ name: t.name, shape: t.shape, data });
  }
  return { manifest, weights, slots };
}

/**
 * Loads and verifies a checkpoint: `latest` (falling back to older ones if the newest is damaged),
 * `best` (highest validation accuracy; the latest when no validation ran), or a name like `step-000000100`.
 */
export function loadCheckpoint(runDir: string, which: 'latest' | 'best' | string = 'latest'): LoadedCheckpoint {
  const dir = checkpointDir(runDir);
  const manifests = listCheckpoints(runDir);
  if (manifests.length === 0) throw new WorkbenchError(`Run ${path.basename(runDir)} has no checkpoint yet.`);
  let order: CheckpointManifest[];
  if (which === 'latest') order = manifests;
  else if (which === 'best') {
    const best = bestOf(manifests);
    order = best ? [best, ...manifests.filter((m) => m !== best)] : manifests;
  } else {
    const named = manifests.find((m) => m.name === which);
    if (!named) {
      throw new WorkbenchError(`Run ${path.basename(runDir)} has no checkpoint "${which}"; it has ${manifests.map((m) => m.name).join(', ')}, or use latest or best.`);
    }
    order = [named];
  }
  const problems: string[] = [];
  for (const m of order) {
    try {
      return readVerified(dir, m);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new WorkbenchError(`No loadable checkpoint in run ${path.basename(runDir)}: ${problems.join(' ')}`);
}
