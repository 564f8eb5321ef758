import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { WorkbenchError } from '../../../shared/errors';
import { realFs, writeFileAtomic, type AtomicFs } from './atomic-fs';
import { BestSchema } from '../../../shared/run/state';
import { CHECKPOINT_DIR } from './run-files';

/**
 * Checkpoints: `checkpoints/step-<step>.json` (the manifest) plus the data file it names,
 * `step-<step>-<nonce>.safetensors`: a valid safetensors file (huggingface/safetensors "Format": an
 * 8-byte header length, a JSON header, then the tensors as little-endian float32, one after
 * another), so any safetensors reader opens a checkpoint. The manifest lists every tensor's
 * absolute byte offset in the file, which is all this module reads; older runs' `.bin` files (the
 * same tensors with no header) read the same way. The PyTorch engine writes the same files.
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

/**
 * The safetensors JSON header for float32 tensors stored one after another, padded with spaces to
 * a multiple of 8 bytes as the format recommends. (main/engine/import/safetensors.ts parses it.)
 */
function safetensorsHeader(arrays: readonly NamedArray[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const a of arrays) {
    header[a.name] = { dtype: 'F32', shape: a.shape, data_offsets: [offset, offset + 4 * a.data.length] };
    offset += 4 * a.data.length;
  }
  const json = JSON.stringify(header);
  const bytes = Buffer.from(json, 'utf8');
  return Buffer.concat([bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8, ' ')]);
}

/** Writes one checkpoint atomically and prunes old ones. Returns its manifest. */
export function writeCheckpoint(runDir: string, state: CheckpointState, options: WriteCheckpointOptions): CheckpointManifest {
  const fsImpl = options.fs ?? realFs;
  assertFinite(state.weights, 'weight');
  assertFinite(state.slots, 'optimizer slot');
  const dir = checkpointDir(runDir);
  fs.mkdirSync(dir, { recursive: true });
  const name = manifestName(state.step);
  const binName = `${name}-${randomBytes(4).toString('hex')}.safetensors`;

  const all: [NamedArray, 'weights' | 'optimizer'][] = [
    ...state.weights.map((w) => [w, 'weights'] as [NamedArray, 'weights']),
    ...state.slots.map((s) => [s, 'optimizer'] as [NamedArray, 'optimizer']),
  ];
  const totalFloats = all.reduce((n, [a]) => n + a.data.length, 0);
  const header = safetensorsHeader(all.map(([a]) => a), { format: 'densenet-workbench-checkpoint', step: String(state.step) });
  const dataStart = 8 + header.length;
  const bytes = new Uint8Array(dataStart + 4 * totalFloats);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  // dataStart is a multiple of 8 (the header is padded), so the floats can be copied in aligned.
  const buffer = new Float32Array(bytes.buffer, dataStart, totalFloats);
  const tensors: CheckpointManifest['tensors'] = [];
  let at = 0;
  for (const [a, group] of all) {
    const expected = a.shape.reduce((p, d) => p * d, 1);
    if (expected !== a.data.length) {
      throw new WorkbenchError(`Tensor ${a.name} has shape [${a.shape.join(', ')}] (${expected} values) but ${a.data.length} values.`, { user: false });
    }
    buffer.set(a.data, at);
    tensors.push({ name: a.name, shape: a.shape, group, offset: dataStart + at * 4, length: a.data.length });
    at += a.data.length;
  }
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

/**
 * The run's best epoch as the training loop recorded it: the first epoch end that reached the
 * highest validation accuracy. Every manifest carries the record as it stood when it was written,
 * so the newest one speaks for the run, and `best` means the same step here, in summary.json and
 * in the UI. (Ranking the checkpoints by their own metrics instead would disagree: an interval
 * checkpoint carries the previous epoch's validation accuracy, and a later epoch that only ties
 * the best would displace it.) Null when no validation ran.
 */
export function bestRecord(manifests: readonly CheckpointManifest[]): CheckpointManifest['best'] {
  const newest = manifests[0];
  return newest?.best?.valAccuracy != null ? newest.best : null;
}

/** A checkpoint data file: safetensors now, raw float32 `.bin` in runs written before. */
export function isDataFile(file: string): boolean {
  return file.endsWith('.safetensors') || file.endsWith('.bin');
}

function prune(dir: string, keep: number, justWritten: string): void {
  const manifests = listCheckpoints(path.dirname(dir));
  const best = bestRecord(manifests);
  const kept = new Set(manifests.slice(0, keep).map((m) => m.name));
  if (best) kept.add(manifestName(best.step));
  // Manifests go first: a manifest without its binary would be a broken checkpoint, the reverse is an orphan.
  for (const m of manifests) {
    if (!kept.has(m.name)) fs.rmSync(path.join(dir, `${m.name}.json`), { force: true });
  }
  const referenced = new Set(manifests.filter((m) => kept.has(m.name)).map((m) => m.data.file));
  referenced.add(justWritten);
  for (const file of fs.readdirSync(dir)) {
    if (isDataFile(file) && !referenced.has(file)) fs.rmSync(path.join(dir, file), { force: true });
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
 * `best` (the checkpoint of the best epoch, see bestRecord; the latest when no validation ran), or
 * a name like `step-000000100`. A best checkpoint that is missing or damaged is an error naming the
 * checkpoints there are: quietly loading another one would pass it off as the best.
 */
export function loadCheckpoint(runDir: string, which: 'latest' | 'best' | string = 'latest'): LoadedCheckpoint {
  const dir = checkpointDir(runDir);
  const manifests = listCheckpoints(runDir);
  if (manifests.length === 0) throw new WorkbenchError(`Run ${path.basename(runDir)} has no checkpoint yet.`);
  let order: CheckpointManifest[];
  if (which === 'latest') order = manifests;
  else if (which === 'best') {
    const best = bestRecord(manifests);
    const named = best ? manifests.find((m) => m.step === best.step) : undefined;
    if (best && !named) {
      throw new WorkbenchError(
        `Run ${path.basename(runDir)} did not keep the checkpoint of its best epoch (step ${best.step}, validation accuracy ` +
          `${((best.valAccuracy ?? 0) * 100).toFixed(2)}%); it has ${manifests.map((m) => m.name).join(', ')}. Use latest or one of those names.`,
      );
    }
    order = named ? [named] : manifests;
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
