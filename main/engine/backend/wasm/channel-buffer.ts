import * as tf from '@tensorflow/tfjs';
import { BN_TRAIN } from './kernels/batch_norm_util';
import { ptr, type WasmBackendInternals } from './heap';
import { trainingKernels } from './init';
import { splitRows } from './split';

/**
 * A dense block's shared feature buffer on the wasm heap (Pleiss et al. 2017, §3, "shared memory
 * storage"): one [N, H, W, C_total] tensor whose channels fill up as the block's layers add their
 * k maps, so a layer's input (the concatenation of everything before it) is the buffer's first
 * channels, read in place by the BN kernels (BnAttrs.channels), and no concatenation is ever
 * copied. These writes mutate a tensor in place, which tfjs' ops never do: only the
 * memory-efficient dense block uses them, on buffers it allocated and has handed to nobody yet.
 */
function backend(): WasmBackendInternals {
  return tf.backend() as unknown as WasmBackendInternals;
}

/** Whether the active backend is wasm with this project's kernels (the buffer's operations exist). */
export function channelBuffersAvailable(): boolean {
  return tf.getBackend() === 'wasm' && trainingKernels() !== null && tf.getKernel(BN_TRAIN, 'wasm') != null;
}

/** A float32 tensor whose contents are not initialised. */
export function allocUninitialised(shape: number[]): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(backend().makeOutput(shape, 'float32'));
}

function columns(t: tf.Tensor): { rows: number; cols: number } {
  const cols = t.shape[t.rank - 1];
  return { rows: cols === 0 ? 0 : t.size / cols, cols };
}

/** buf[..., offset : offset + src's channels] = src, in place. */
export function writeChannels(buf: tf.Tensor, src: tf.Tensor, offset: number): void {
  const simd = trainingKernels()!;
  const { rows, cols: S } = columns(buf);
  const n = src.shape[src.rank - 1];
  if (src.size !== rows * n || offset + n > S) throw new Error(`Cannot write [${src.shape.join(', ')}] at channel ${offset} of [${buf.shape.join(', ')}].`);
  const sp = ptr(backend(), src);
  const bp = ptr(backend(), buf);
  splitRows(simd, 'copy_cols', rows, (r0, r1) => [sp + 4 * r0 * n, r1 - r0, n, 0, n, bp + 4 * r0 * S, S, offset]);
}

/** A new tensor holding buf[..., offset : offset + count]. */
export function readChannels(buf: tf.Tensor, offset: number, count: number): tf.Tensor {
  const simd = trainingKernels()!;
  const { rows, cols: S } = columns(buf);
  const out = allocUninitialised([...buf.shape.slice(0, -1), count]);
  const bp = ptr(backend(), buf);
  const op = ptr(backend(), out);
  splitRows(simd, 'copy_cols', rows, (r0, r1) => [bp + 4 * r0 * S, r1 - r0, S, offset, count, op + 4 * r0 * count, count, 0]);
  return out;
}
