import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelExports } from './exports';
import { serialPool, type Pool } from './pool';
import { WA, type WasmMemory } from './wasm-api';

/**
 * This project's SIMD kernels (csrc/*.c, built by csrc/build.sh), instantiated on
 * tfjs-backend-wasm's own linear memory so they work on tensors in place.
 */
export interface SimdKernels {
  k: KernelExports;
  /** Splits a kernel call between this thread and a helper (serial without shared memory). */
  pool: Pool;
  memory: WasmMemory;
  /** Whether this is the relaxed-SIMD build (fused multiply-add). */
  relaxed: boolean;
  /** A fresh view: the heap's buffer changes whenever it grows. */
  f32(offset: number, length: number): Float32Array;
  f64(offset: number, length: number): Float64Array;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export function kernelsPath(shared: boolean, relaxed: boolean): string {
  return path.join(here, `kernels${relaxed ? '-relaxed' : ''}${shared ? '-shared' : ''}.wasm`);
}

export function instantiateKernels(memory: WasmMemory, relaxed: boolean): SimdKernels {
  const module = new WA.Module(fs.readFileSync(kernelsPath(isShared(memory), relaxed)));
  const instance = new WA.Instance(module, { env: { memory } });
  const k = instance.exports as unknown as KernelExports;
  return {
    k,
    pool: serialPool(k),
    memory,
    relaxed,
    f32: (offset, length) => new Float32Array(memory.buffer, offset, length),
    f64: (offset, length) => new Float64Array(memory.buffer, offset, length),
  };
}

export function isShared(memory: WasmMemory): boolean {
  return typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
}
