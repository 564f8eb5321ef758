import { WorkbenchError } from '../../../shared/errors';
import { decode, DTYPE_BYTES, type SafeDtype, type SafeTensor } from './safetensors';
import { storageType, type StorageRef, type TensorRef } from './pickle';

/**
 * Tensors of a PyTorch checkpoint, from the storages they view: a tensor is `size` elements laid
 * out by `stride` from `offset` in its storage (torch._utils._rebuild_tensor_v2), and several
 * tensors may share one storage. Each one is copied out in row-major order, the layout the
 * workbench's weights use, widened to float32 for float16/bfloat16/float64.
 */

/** Storage dtypes the workbench reads, as safetensors dtype codes. */
const READABLE: Record<string, SafeDtype> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64', int64: 'I64' };

export function storageDtype(ref: StorageRef, tensorName: string, label: string): SafeDtype {
  const dtype = storageType(ref.type)?.dtype;
  const code = dtype ? READABLE[dtype] : undefined;
  if (!code) {
    throw new WorkbenchError(
      `${label}: tensor "${tensorName}" is stored as ${ref.type} (${dtype ?? 'unknown dtype'}); the workbench reads float32, float16, ` +
        'bfloat16 and float64 weights and int64 buffers. Convert it in Python first, e.g. {k: v.float() for k, v in sd.items()}.',
    );
  }
  return code;
}

/** Bytes one element of the storage takes. */
export function elementBytes(dtype: SafeDtype): number {
  return DTYPE_BYTES[dtype];
}

type Values = SafeTensor['data'];

/**
 * Decodes each storage once and copies every tensor out of it.
 *
 * @param read the raw little-endian bytes of a storage record, already checked to be complete.
 */
export class TensorMaterializer {
  private readonly decoded = new Map<string, Values>();

  constructor(
    private readonly read: (ref: StorageRef, dtype: SafeDtype) => Uint8Array,
    private readonly label: string,
  ) {}

  tensor(name: string, ref: TensorRef): SafeTensor {
    const dtype = storageDtype(ref.storage, name, this.label);
    const count = ref.size.reduce((a, b) => a * b, 1);
    const storage = this.storage(ref.storage, dtype);
    const base = ref.storage.viewOffset + ref.offset;
    // The last element the view touches; strides are never negative in PyTorch.
    const last = count === 0 ? base - 1 : base + ref.size.reduce((s, d, i) => s + (d - 1) * ref.stride[i], 0);
    const end = ref.storage.viewOffset + ref.storage.numel;
    if (count > 0 && (last >= end || last >= storage.length)) {
      throw new WorkbenchError(
        `${this.label}: tensor "${name}" of size [${ref.size.join(', ')}], stride [${ref.stride.join(', ')}] and offset ${ref.offset} ` +
          `reaches element ${last} of its storage, which holds ${Math.min(end, storage.length)} (a damaged or truncated file?).`,
      );
    }
    return { dtype, shape: [...ref.size], data: gather(storage, base, ref.size, ref.stride, count) };
  }

  private storage(ref: StorageRef, dtype: SafeDtype): Values {
    let values = this.decoded.get(ref.key);
    if (!values) {
      const raw = this.read(ref, dtype);
      values = decode(raw, dtype, Math.floor(raw.length / DTYPE_BYTES[dtype]));
      this.decoded.set(ref.key, values);
    }
    return values;
  }
}

/** Row-major copy of a strided view. */
function gather(src: Values, base: number, size: number[], stride: number[], count: number): Values {
  const out = new (src.constructor as new (n: number) => Values)(count);
  if (count === 0) return out;
  if (isContiguous(size, stride)) {
    (out as Float32Array).set((src as Float32Array).subarray(base, base + count));
    return out;
  }
  const rank = size.length;
  const index = new Array<number>(rank).fill(0);
  let at = base;
  for (let i = 0; i < count; i++) {
    (out as Float32Array)[i] = (src as Float32Array)[at];
    // Odometer over the indices, innermost first.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      at += stride[d];
      if (index[d] < size[d]) break;
      at -= stride[d] * size[d];
      index[d] = 0;
    }
  }
  return out;
}

function isContiguous(size: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d];
  }
  return true;
}
