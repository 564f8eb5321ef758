import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialPool, type Pool } from './pool';
import { WA, type WasmMemory } from './wasm-api';

/**
 * This project's SIMD kernels (csrc/kernels.c, built by csrc/build.sh), instantiated on
 * tfjs-backend-wasm's own linear memory so they work on tensors in place.
 */
export interface KernelExports {
  channel_affine(x: number, P: number, C: number, scale: number, shift: number, y: number): void;
  bn_grad_dx(dy: number, x: number, P: number, C: number, a: number, b: number, k: number, dx: number): void;
  relu_grad(dy: number, x: number, n: number, dx: number): void;
  permute_210(src: number, A: number, B: number, C: number, dst: number): void;
  permute_102(src: number, A: number, B: number, C: number, dst: number): void;
  rot180_swap(w: number, KH: number, KW: number, CI: number, CO: number, dst: number): void;
  dilate(src: number, N: number, H: number, W: number, C: number, sh: number, sw: number, HD: number, WD: number, dst: number): void;
  relu(x: number, n: number, y: number): void;
  add_into(dst: number, src: number, n: number): void;
  col_sum(x: number, P: number, C: number, tmp: number, acc: number): void;
  col_sqdev(x: number, P: number, C: number, mean: number, tmp: number, acc: number): void;
  col_grad_sums(dy: number, x: number, P: number, C: number, mean: number, tmp: number, acc: number): void;
  avg_pool_grad(dy: number, N: number, H: number, W: number, C: number, k: number, HO: number, WO: number, dx: number): void;
  conv_dw(x: number, dy: number, H: number, W: number, CI: number, HO: number, WO: number, CO: number, KH: number, KW: number, sh: number, sw: number, pt: number, pl: number, n0: number, n1: number, dwT: number): void;
  copy_cols(src: number, rows: number, srcCols: number, srcOff: number, n: number, dst: number, dstCols: number, dstOff: number): void;
}

export interface SimdKernels {
  k: KernelExports;
  /** Splits a kernel call between this thread and a helper (serial without shared memory). */
  pool: Pool;
  memory: WasmMemory;
  /** A fresh view: the heap's buffer changes whenever it grows. */
  f32(offset: number, length: number): Float32Array;
  f64(offset: number, length: number): Float64Array;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export function kernelsPath(shared: boolean): string {
  return path.join(here, shared ? 'kernels-shared.wasm' : 'kernels.wasm');
}

export function instantiateKernels(memory: WasmMemory): SimdKernels {
  const shared = isShared(memory);
  const module = new WA.Module(fs.readFileSync(kernelsPath(shared)));
  const instance = new WA.Instance(module, { env: { memory } });
  const simd: SimdKernels = {
    k: instance.exports as unknown as KernelExports,
    pool: undefined as unknown as Pool,
    memory,
    f32: (offset, length) => new Float32Array(memory.buffer, offset, length),
    f64: (offset, length) => new Float64Array(memory.buffer, offset, length),
  };
  simd.pool = serialPool(simd);
  return simd;
}

export function isShared(memory: WasmMemory): boolean {
  return typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
}
