import { WorkbenchError } from '../../../shared/errors';

/**
 * The safetensors format (huggingface/safetensors, docs "Format"): an 8-byte little-endian unsigned
 * header length N, N bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]}, ...,
 * "__metadata__"?: {string: string}}`, then the raw little-endian data, offsets relative to its start.
 * Written by hand because no maintained JS package parses it without pulling in a framework; every
 * field is validated, since a file from the internet is untrusted input.
 */
export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** The values, widened to float32 for F16/BF16/F64 (weights) and kept exact for integers. */
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

export interface SafeTensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as const;
export type SafeDtype = keyof typeof DTYPE_BYTES;

/** Header size limit from the reference implementation (100 MB): guards against a hostile length. */
const MAX_HEADER = 100_000_000;

export function parseSafetensors(bytes: Uint8Array, label = 'the file'): SafeTensorsFile {
  const fail = (what: string) => new WorkbenchError(`${label} is not a valid safetensors file: ${what}`);
  if (bytes.length < 8) throw fail(`it is ${bytes.length} bytes long, shorter than the 8-byte header length.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER)) throw fail(`the header length ${headerLen} exceeds the 100 MB limit.`);
  const n = Number(headerLen);
  if (8 + n > bytes.length) {
    throw fail(`the header claims ${n} bytes but only ${bytes.length - 8} follow the length field (truncated file?).`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    throw fail(`the header is not valid UTF-8 JSON (${(err as Error).message}).`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw fail('the header is not a JSON object.');

  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(entry, fail);
      continue;
    }
    const { dtype, shape, begin, end } = parseEntry(name, entry, fail);
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * DTYPE_BYTES[dtype]) {
      throw fail(`tensor "${name}" of shape [${shape.join(', ')}] and dtype ${dtype} needs ${count * DTYPE_BYTES[dtype]} bytes, but its offsets [${begin}, ${end}] span ${end - begin}.`);
    }
    if (end > dataLen) {
      throw fail(`tensor "${name}" ends at byte ${end} of the data, but the data section is ${dataLen} bytes (truncated file?).`);
    }
    ranges.push({ name, begin, end });
    tensors.set(name, { dtype, shape, data: decode(bytes.subarray(dataStart + begin, dataStart + end), dtype, count) });
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].begin < ranges[i - 1].end) {
      throw fail(`tensors "${ranges[i - 1].name}" [${ranges[i - 1].begin}, ${ranges[i - 1].end}] and "${ranges[i].name}" [${ranges[i].begin}, ${ranges[i].end}] overlap.`);
    }
  }
  return { tensors, metadata };
}

function parseMetadata(entry: unknown, fail: (what: string) => Error): Record<string, string> {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw fail('"__metadata__" is not an object of strings.');
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string') throw fail(`metadata "${k}" is ${typeof v}, not a string.`);
  }
  return entry as Record<string, string>;
}

function parseEntry(name: string, entry: unknown, fail: (what: string) => Error) {
  if (!entry || typeof entry !== 'object') throw fail(`the entry for "${name}" is not an object.`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
    throw fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}.`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`tensor "${name}" has shape ${JSON.stringify(shape)}; expected an array of non-negative integers.`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 ≤ begin ≤ end.`);
  }
  return { dtype: dtype as SafeDtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number };
}

export function decode(raw: Uint8Array, dtype: SafeDtype, count: number): SafeTensor['data'] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'I64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(i * 8, true);
      return out;
    }
    case 'I32':
    case 'I16':
    case 'I8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        out[i] = dtype === 'I32' ? view.getInt32(i * 4, true) : dtype === 'I16' ? view.getInt16(i * 2, true) : view.getInt8(i);
      }
      return out;
    }
    default:
      return raw.slice();
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Writes a safetensors file of float32 tensors (used to export weights and to build test inputs). */
export function encodeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = Object.keys(metadata).length ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    for (let i = 0; i < t.data.length; i++) view.setFloat32(at + i * 4, t.data[i], true);
    at += t.data.length * 4;
  }
  return out;
}
