/** The values the restricted unpickler (./pickle.ts) hands over: plain data, never live objects. */

/** A Python value as the unpickler hands it over. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PyGlobal
  | TensorRef
  | StorageRef;

export type PyKey = string | number | bigint | boolean | null;

/** A tuple (kept apart from lists: persistent ids and tensor sizes are tuples). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A dict or OrderedDict, in insertion order. `attributes` holds a BUILD state (e.g. a state dict's `_metadata`). */
export class PyDict {
  readonly entries = new Map<PyKey, PyValue>();
  attributes: PyValue = null;
}

/** One of the allowed globals, resolved by name only. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage a tensor views: what `persistent_load` returns for a `('storage', ...)` id. */
export interface StorageRef {
  kind: 'storage';
  /** The storage class, e.g. `torch.FloatStorage`. */
  type: string;
  /** The record key: `data/<key>` in a zip checkpoint, the key of a legacy one. */
  key: string;
  /** Elements in the storage (legacy views: in the viewed range). */
  numel: number;
  /** Legacy storage views: the offset into the root storage, in elements. */
  viewOffset: number;
}

/** A tensor as `torch._utils._rebuild_tensor(_v2)` describes it: a strided view of a storage. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements. */
  offset: number;
  size: number[];
  stride: number[];
}

export function isTensor(v: PyValue): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
}

/**
 * The storage classes a checkpoint may name, with their dtype and element size in bytes. Every
 * storage class is allowed by name so that a tensor of an unsupported dtype gets an error naming
 * its dtype rather than "unknown global", and so that a legacy file's records can be skipped.
 */
export const STORAGE_TYPES: Record<string, { dtype: string; bytes: number }> = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  BFloat16Storage: { dtype: 'bfloat16', bytes: 2 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
  LongStorage: { dtype: 'int64', bytes: 8 },
  IntStorage: { dtype: 'int32', bytes: 4 },
  ShortStorage: { dtype: 'int16', bytes: 2 },
  CharStorage: { dtype: 'int8', bytes: 1 },
  ByteStorage: { dtype: 'uint8', bytes: 1 },
  BoolStorage: { dtype: 'bool', bytes: 1 },
  ComplexFloatStorage: { dtype: 'complex64', bytes: 8 },
  ComplexDoubleStorage: { dtype: 'complex128', bytes: 16 },
  QInt8Storage: { dtype: 'qint8', bytes: 1 },
  QUInt8Storage: { dtype: 'quint8', bytes: 1 },
  QInt32Storage: { dtype: 'qint32', bytes: 4 },
  QUInt4x2Storage: { dtype: 'quint4x2', bytes: 1 },
};

/** The entry for a storage global's qualified name (`torch.FloatStorage`). */
export function storageType(qualified: string): { dtype: string; bytes: number } | undefined {
  const name = qualified.replace(/^torch\./, '');
  return Object.hasOwn(STORAGE_TYPES, name) ? STORAGE_TYPES[name] : undefined;
}

export function isStorage(v: PyValue): v is StorageRef {
  return typeof v === 'object' && v !== null && (v as StorageRef).kind === 'storage';
}

export function isKey(v: PyValue): v is PyKey {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

export function typeName(v: PyValue | undefined): string {
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyGlobal) return `global ${v.qualified}`;
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.kind;
  return typeof v === 'bigint' ? 'int' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v === 'string' ? 'str' : 'bool';
}
