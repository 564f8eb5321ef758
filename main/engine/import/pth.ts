import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import * as yauzl from 'yauzl';
import { WorkbenchError } from '../../../shared/errors';
import type { SafeDtype, SafeTensor } from './safetensors';
import { PyDict, PyGlobal, PyTuple, storageType, unpickle, typeName, type PyValue, type StorageRef, type TensorRef } from './pickle';
import { TensorMaterializer, elementBytes } from './pth-tensors';

/**
 * Reads what `torch.save` writes, without Python and without running the pickle inside:
 * - the zip format (PyTorch ≥ 1.6, torch/serialization.py `_save`): `<archive>/data.pkl` holds the
 *   pickled object, whose tensors refer by persistent id `('storage', StorageType, key, location,
 *   numel)` to the raw little-endian records `<archive>/data/<key>`;
 * - the legacy format (PyTorch 0.1.10 to 1.5, `_legacy_save`, and `_use_new_zipfile_serialization=False`
 *   since): five pickles back to back (magic number, protocol version 1001, system info, the object,
 *   the sorted storage keys), then each storage as an int64 element count and its raw bytes.
 *
 * Porting note: the legacy format is read, not refused, because torchvision's published ImageNet
 * DenseNets (densenet121-a639ec97.pth, ...) date from 2017 and are stored in it. The older tar
 * format (before PyTorch 0.1.10) and TorchScript archives (torch.jit.save: code plus weights) are
 * refused with a sentence saying how to convert them.
 */

export type TorchFormat = 'zip' | 'legacy';

export interface TorchCheckpoint {
  format: TorchFormat;
  /** The unpickled object: a state dict, or a dict wrapping one. */
  root: PyValue;
}

/** Picks the tensors to load from the unpickled object; only their storages are read and decoded. */
export type TensorSelector = (root: PyValue) => Map<string, TensorRef>;

export interface LoadedTorchFile {
  format: TorchFormat;
  tensors: Map<string, SafeTensor>;
}

/** The legacy format's first pickle (torch/serialization.py MAGIC_NUMBER). */
const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

export function looksLikeTorchFile(bytes: Uint8Array): boolean {
  return isZip(bytes) || isTar(bytes) || bytes[0] === 0x80;
}

function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6);
}

function isTar(b: Uint8Array): boolean {
  return b.length >= 262 && String.fromCharCode(...b.subarray(257, 262)) === 'ustar';
}

/**
 * Reads a torch.save file in `bytes` and returns the tensors `select` picks from it.
 * @param label names the file in errors.
 */
export async function loadTorchFile(bytes: Uint8Array, label: string, select: TensorSelector): Promise<LoadedTorchFile> {
  const base = path.basename(label);
  if (isZip(bytes)) return loadZip(bytes, label, select);
  if (isTar(bytes)) {
    throw new WorkbenchError(
      `${label} is a checkpoint in the tar format of PyTorch before 0.1.10, which the workbench does not read. ` +
        `Re-save it with a current PyTorch: torch.save(torch.load('${base}'), 'weights.pth').`,
    );
  }
  if (bytes[0] === 0x80) return loadLegacy(bytes, label, select);
  throw new WorkbenchError(`${label} is not a PyTorch checkpoint: it is neither a torch.save zip archive nor a legacy torch.save pickle.`);
}

// ---------------------------------------------------------------------------------------------
// zip format

async function loadZip(bytes: Uint8Array, label: string, select: TensorSelector): Promise<LoadedTorchFile> {
  let zip: yauzl.ZipFile;
  const entries = new Map<string, yauzl.Entry>();
  try {
    zip = await yauzl.fromBufferPromise(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { lazyEntries: true, validateEntrySizes: true });
    for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
  } catch (err) {
    throw new WorkbenchError(`${label} is a damaged zip archive (${(err as Error).message}); a truncated download? Download or copy it again.`, { cause: err });
  }
  try {
    const names = [...entries.keys()];
    const pkl = names.filter((n) => /^([^/]*\/)?data\.pkl$/.test(n));
    const prefix = pkl.length === 1 ? pkl[0].slice(0, -'data.pkl'.length) : null;
    const base = path.basename(label);
    if (names.some((n) => /^([^/]*\/)?(constants\.pkl|code\/|model\.json)/.test(n))) {
      throw new WorkbenchError(
        `${label} is a TorchScript archive (torch.jit.save), which holds code as well as weights. Save its weights as a state dict ` +
          `in Python: m = torch.jit.load('${base}'); torch.save(m.state_dict(), 'weights.pth'); then import weights.pth.`,
      );
    }
    if (prefix === null) {
      const inner = names.find((n) => /\.(pth|pt|bin)$/.test(n));
      throw new WorkbenchError(
        inner
          ? `${label} is a zip archive holding ${inner}; unzip it and import that file.`
          : `${label} is a zip archive but not a torch.save checkpoint: it has ${pkl.length === 0 ? 'no data.pkl' : `${pkl.length} data.pkl records`}.`,
      );
    }
    const byteorder = entries.get(`${prefix}byteorder`);
    if (byteorder) {
      const order = new TextDecoder().decode(await readEntry(zip, byteorder, label)).trim();
      if (order !== 'little') throw new WorkbenchError(`${label} stores its tensors ${order}-endian; the workbench reads little-endian checkpoints. Re-save it on a little-endian machine (x86, ARM).`);
    }
    const { value: root } = unpickle(await readEntry(zip, entries.get(`${prefix}data.pkl`)!, label), 0, {
      label,
      persistentLoad: (pid) => zipStorage(pid, label),
    });
    const chosen = select(root);
    const raw = new Map<string, Uint8Array>();
    for (const ref of chosen.values()) {
      const key = ref.storage.key;
      if (raw.has(key)) continue;
      const record = `${prefix}data/${key}`;
      const entry = entries.get(record);
      if (!entry) throw new WorkbenchError(`${label} is damaged: its pickle refers to storage ${record}, which the archive lacks.`);
      raw.set(key, await readEntry(zip, entry, label));
    }
    const materializer = new TensorMaterializer((ref, dtype) => checkedStorage(raw.get(ref.key)!, ref, dtype, `record data/${ref.key}`, label), label);
    return { format: 'zip', tensors: materializeAll(chosen, materializer) };
  } finally {
    zip.close();
  }
}

function zipStorage(pid: PyTuple, label: string): StorageRef {
  const [, type, key, , numel] = pid.items;
  if (!(type instanceof PyGlobal) || typeof key !== 'string' || typeof numel !== 'number') {
    throw new WorkbenchError(`${label} is damaged: a storage id is not ('storage', StorageType, key, location, numel).`);
  }
  return { kind: 'storage', type: type.qualified, key, numel, viewOffset: 0 };
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, label: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  try {
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream) chunks.push(chunk as Buffer);
  } catch (err) {
    throw new WorkbenchError(`${label} is damaged: ${entry.fileName} cannot be read (${(err as Error).message}).`, { cause: err });
  }
  const data = Buffer.concat(chunks);
  // yauzl leaves CRC checking to its caller.
  if ((crc32(data) >>> 0) !== (entry.crc32 >>> 0)) {
    throw new WorkbenchError(`${label} is damaged: ${entry.fileName} fails its CRC-32 check. Download or copy the file again.`);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// legacy format

function loadLegacy(bytes: Uint8Array, label: string, select: TensorSelector): LoadedTorchFile {
  const notTorch = () => new WorkbenchError(`${label} is a Python pickle but not a torch.save checkpoint (it does not start with PyTorch's magic number).`);
  let magic: PyValue;
  let at: number;
  try {
    ({ value: magic, end: at } = unpickle(bytes, 0, { label }));
  } catch (err) {
    // A pickle of something else (a model object, ...) can fail on its first global; say that.
    if (err instanceof WorkbenchError && /refused/.test(err.message)) throw err;
    throw notTorch();
  }
  if (magic !== MAGIC_NUMBER) throw notTorch();
  const version = unpickle(bytes, at, { label });
  if (version.value !== LEGACY_PROTOCOL) {
    throw new WorkbenchError(`${label} uses legacy checkpoint protocol ${String(version.value)}; the workbench reads ${LEGACY_PROTOCOL}. Re-save it with torch.save in a current PyTorch.`);
  }
  const info = unpickle(bytes, version.end, { label });
  if (info.value instanceof PyDict && info.value.entries.get('little_endian') === false) {
    throw new WorkbenchError(`${label} was saved on a big-endian machine; the workbench reads little-endian checkpoints. Re-save it on a little-endian machine (x86, ARM).`);
  }
  const types = new Map<string, StorageRef>();
  const body = unpickle(bytes, info.end, { label, persistentLoad: (pid) => legacyStorage(pid, label, types) });
  const keyList = unpickle(bytes, body.end, { label });
  if (!Array.isArray(keyList.value) || !keyList.value.every((k) => typeof k === 'string')) {
    throw new WorkbenchError(`${label} is damaged: after the object it should list its storage keys, but holds a ${typeName(keyList.value)}.`);
  }
  // The storages follow in key order, each as an int64 element count and the raw elements.
  const records = new Map<string, Uint8Array>();
  let pos = keyList.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keyList.value as string[]) {
    const ref = types.get(key);
    if (!ref) throw new WorkbenchError(`${label} is damaged: storage ${key} is listed but no tensor uses it.`);
    if (pos + 8 > bytes.length) throw truncated(label, key);
    const count = view.getBigInt64(pos, true);
    const size = Number(count) * (storageType(ref.type)?.bytes ?? 1);
    if (count < 0n || !Number.isSafeInteger(size) || pos + 8 + size > bytes.length) throw truncated(label, key);
    records.set(key, bytes.subarray(pos + 8, pos + 8 + size));
    pos += 8 + size;
  }
  const chosen = select(body.value);
  const materializer = new TensorMaterializer((ref, dtype) => {
    const raw = records.get(ref.key);
    if (!raw) throw new WorkbenchError(`${label} is damaged: storage ${ref.key} is used but not stored.`);
    return checkedStorage(raw, types.get(ref.key)!, dtype, `storage ${ref.key}`, label);
  }, label);
  return { format: 'legacy', tensors: materializeAll(chosen, materializer) };
}

function legacyStorage(pid: PyTuple, label: string, seen: Map<string, StorageRef>): StorageRef {
  // ('storage', StorageType, root_key, location, root_numel, view_metadata | None); a view is
  // (view_key, offset, size) into the root storage (views of storages existed before PyTorch 0.4).
  const [, type, key, , numel, view] = pid.items;
  if (!(type instanceof PyGlobal) || typeof key !== 'string' || typeof numel !== 'number') {
    throw new WorkbenchError(`${label} is damaged: a storage id is not ('storage', StorageType, key, location, numel, view).`);
  }
  const root: StorageRef = { kind: 'storage', type: type.qualified, key, numel, viewOffset: 0 };
  seen.set(key, root);
  if (view instanceof PyTuple) {
    const [, offset, size] = view.items;
    if (typeof offset !== 'number' || typeof size !== 'number') throw new WorkbenchError(`${label} is damaged: a storage view is not (key, offset, size).`);
    return { ...root, numel: size, viewOffset: offset };
  }
  return root;
}

function truncated(label: string, key: string): Error {
  return new WorkbenchError(`${label} is truncated: storage ${key} ends past the end of the file. Download or copy it again.`);
}

// ---------------------------------------------------------------------------------------------

/** The storage bytes, checked against the element count the pickle gives it. */
function checkedStorage(raw: Uint8Array, ref: StorageRef, dtype: SafeDtype, what: string, label: string): Uint8Array {
  const need = (ref.viewOffset + ref.numel) * elementBytes(dtype);
  if (raw.length < need) {
    throw new WorkbenchError(`${label} is truncated or damaged: ${what} holds ${raw.length} bytes, but its ${ref.numel} ${dtype} elements need ${need}.`);
  }
  return raw;
}

function materializeAll(chosen: Map<string, TensorRef>, m: TensorMaterializer): Map<string, SafeTensor> {
  const out = new Map<string, SafeTensor>();
  for (const [name, ref] of chosen) out.set(name, m.tensor(name, ref));
  return out;
}
