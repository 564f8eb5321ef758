import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../../shared/errors';

/**
 * Turns every way the wasm heap can run out into an error thrown by the kernel call that hit it.
 *
 * wasm32 gives tfjs-backend-wasm at most 4 GiB, and the backend does not check for failure:
 * - tfjs' `_malloc` returns 0 when the heap cannot grow, and the backend then uses offset 0 as the
 *   tensor's memory. The kernels write over the bottom of the heap, and XNNPACK's threads, handed
 *   those pointers, fault and die while the main thread waits for them forever: the silent hang
 *   of a DenseNet-121 at batch 32. The wrapper here throws HeapExhaustedError instead of returning 0.
 * - XNNPACK's own allocations (packed weights, indirection buffers) fail inside C++; tfjs prints
 *   "XNN status for xnn_create_... Got status 6" (xnn_status_out_of_memory) and carries on with a
 *   null operator. The print is noticed here (not thrown from: the C stdio lock is held there), and
 *   the stock kernel wrapped by `guardXnnKernels` throws once it returns.
 * It also counts the bytes tensors hold, with a high-water mark the memory planner checks its
 * estimates against.
 */
export class HeapExhaustedError extends WorkbenchError {
  constructor(message: string, readonly requestedBytes: number, readonly liveBytes: number, readonly limitBytes: number) {
    super(message);
  }
}

export interface HeapGuard {
  /** The most the heap can hold: wasm32's 4 GiB, or a lower cap. */
  readonly limitBytes: number;
  /** Bytes held by tensors and kernel scratch allocated through tfjs' `_malloc`. */
  liveBytes(): number;
  /** The largest liveBytes() since the last resetPeak(). */
  peakBytes(): number;
  resetPeak(): void;
}

interface WasmModule {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
export const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

let installed: (HeapGuard & { module: WasmModule }) | null = null;
let xnnFailure: string | null = null;

/**
 * Room kept free for XNNPACK's own allocations (DenseNet-121's 7x7 stem at batch 32 needs a 79 MB
 * indirection buffer): once the heap cannot grow by this much, a tensor allocation that would
 * leave less than this free fails instead, while the C side can still get its memory.
 */
export function headroomFor(limitBytes: number): number {
  return Math.min(128 * 2 ** 20, Math.floor(limitBytes / 8));
}

/**
 * Wraps the module's malloc and free (once per module). `heapBytes` is the heap's current size
 * (it grows up to `limitBytes`).
 */
export function installHeapGuard(module: WasmModule, limitBytes: number, heapBytes: () => number): HeapGuard {
  if (installed?.module === module) return installed;
  // Emscripten's `_malloc` and `_free` start as thunks that replace themselves with the raw exports
  // on first use, which would also replace a wrapper installed before: call them once first.
  module._free(module._malloc(16));
  const malloc = module._malloc.bind(module);
  const free = module._free.bind(module);
  const sizes = new Map<number, number>();
  const headroom = headroomFor(limitBytes);
  let live = 0;
  let peak = 0;
  module._malloc = (bytes: number) => {
    if (live + bytes > limitBytes) throw exhausted(bytes, live, limitBytes);
    const p = malloc(bytes) >>> 0;
    if (p === 0 && bytes > 0) throw exhausted(bytes, live, limitBytes);
    if (bytes >= 65536 && heapBytes() + headroom > limitBytes) {
      // The heap is (nearly) at its limit: check that the headroom is still there.
      const probe = malloc(headroom) >>> 0;
      if (probe === 0) {
        free(p);
        throw exhausted(bytes, live, limitBytes);
      }
      free(probe);
    }
    sizes.set(p, bytes);
    live += bytes;
    if (live > peak) peak = live;
    return p;
  };
  module._free = (ptr: number) => {
    const p = ptr >>> 0;
    const bytes = sizes.get(p);
    if (bytes !== undefined) {
      live -= bytes;
      sizes.delete(p);
    }
    free(ptr);
  };
  installed = {
    module,
    limitBytes,
    liveBytes: () => live,
    peakBytes: () => peak,
    resetPeak: () => {
      peak = live;
    },
  };
  return installed;
}

export function heapGuard(): HeapGuard | null {
  return installed;
}

function exhausted(bytes: number, live: number, limit: number): HeapExhaustedError {
  return new HeapExhaustedError(
    `The wasm heap is full: ${mib(bytes)} more were needed with ${gib(live)} of its ${gib(limit)} in use.`,
    bytes, live, limit,
  );
}

const XNN_STATUS = /XNN status for (\w+) is not successful\. Got status (\d+)/;

function noteXnn(text: string): void {
  const m = XNN_STATUS.exec(text);
  if (!m) return;
  const what = m[2] === '6' ? 'could not allocate memory' : `failed with status ${m[2]}`;
  const live = installed ? ` (${gib(installed.liveBytes())} of the ${gib(installed.limitBytes)} heap in use)` : '';
  xnnFailure ??= `XNNPACK ${what} in ${m[1]}${live}.`;
}

let printHooked = false;

/**
 * Notices tfjs' XNNPACK failure prints. The threaded glue prints through fs.writeSync(2, ...); the
 * single-threaded glue binds console.warn when it starts, so this must run before the backend does.
 */
export function hookXnnPrints(): void {
  if (printHooked) return;
  printHooked = true;
  const writeSync = fs.writeSync;
  fs.writeSync = function (this: unknown, fd: number, data: unknown, ...rest: unknown[]) {
    if (fd === 2 && typeof data === 'string') noteXnn(data);
    return (writeSync as (...a: unknown[]) => number).call(this, fd, data, ...rest);
  } as typeof fs.writeSync;
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string') noteXnn(args[0]);
    warn.apply(console, args);
  };
}

/** The stock kernels that run XNNPACK operators. */
const XNN_KERNELS = ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'MaxPool', 'AvgPool', 'BatchMatMul', '_FusedMatMul', 'PadV2', 'Softmax', 'Prelu', 'Relu6', 'Sigmoid', 'Elu', 'ResizeBilinear'];

/**
 * Re-registers the stock XNNPACK kernels so that a failure XNNPACK reported during the call is
 * thrown when the call returns (its output would be garbage: the operator was never created).
 */
export function guardXnnKernels(): void {
  for (const name of XNN_KERNELS) {
    const stock = tf.getKernel(name, 'wasm') as (KernelConfig & { xnnGuarded?: true }) | undefined;
    if (!stock || stock.xnnGuarded) continue;
    const guarded: KernelConfig & { xnnGuarded: true } = {
      ...stock,
      xnnGuarded: true,
      kernelFunc: (args) => {
        const out = stock.kernelFunc(args);
        if (xnnFailure) {
          const message = xnnFailure;
          xnnFailure = null;
          const outs = Array.isArray(out) ? out : [out];
          for (const t of outs) (args.backend as unknown as { disposeData(id: object): void }).disposeData(t.dataId);
          const live = installed?.liveBytes() ?? 0;
          throw new HeapExhaustedError(`${message} The wasm heap is too small for this step.`, 0, live, installed?.limitBytes ?? 0);
        }
        return out;
      },
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(guarded);
  }
}
