import * as tf from '@tensorflow/tfjs';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { WASM_HEAP_MAX } from '../../../../shared/memory-plan';
import { guardXnnKernels, hookXnnPrints, installHeapGuard } from './heap-guard';
import { registerTrainingKernels } from './register';
import { workerPool } from './pool';
import { chooseSimdFlavour } from './relaxed-simd';
import { instantiateKernels, isShared, kernelsPath, type SimdKernels } from './simd';
import { patchForThreads, sharedMemoryAvailable } from './threads';
import { WA, type WasmMemory, type WasmMemoryDescriptor } from './wasm-api';

export interface WasmInit {
  threads: number;
  simd: boolean;
  /** Whether this project's kernels run their relaxed-SIMD (fused multiply-add) build. */
  relaxedSimd: boolean;
  /** The most the heap may hold. */
  heapLimitBytes: number;
  /** The heap's size once the backend and the kernels are up (static data, thread stacks, caches). */
  heapBaseBytes: number;
  /** Why fewer threads than requested, if so. */
  note?: string;
  /** Why the plain SIMD build of the kernels runs, if it does. */
  kernelsNote?: string;
}

let done: WasmInit | null = null;
let kernels: SimdKernels | null = null;

/** The training kernels in use (after initWasmTraining), for tests of the kernel helper thread. */
export function trainingKernels(): SimdKernels | null {
  return kernels;
}


export interface WasmInitOptions {
  /**
   * Caps the heap below wasm32's 4 GiB (default: WORKBENCH_WASM_HEAP_MB, else no cap), so tests can
   * make a model outgrow it cheaply. With threads the cap is the memory's own maximum; without,
   * the heap guard enforces it.
   */
  heapLimitBytes?: number;
}

function heapLimitFrom(opts: WasmInitOptions): number {
  const env = Number(process.env['WORKBENCH_WASM_HEAP_MB']);
  const asked = opts.heapLimitBytes ?? (Number.isFinite(env) && env > 0 ? env * 2 ** 20 : WASM_HEAP_MAX);
  return Math.min(WASM_HEAP_MAX, Math.floor(asked / 65536) * 65536);
}

/**
 * Emscripten refs a pthread's worker while the thread runs, and XNNPACK's pool threads run for the
 * life of the module (blocked waiting for work), so a process that used the threaded backend would
 * never exit on its own. They hold no work between kernel calls, so they need not keep it alive.
 */
function unrefPthreads(backend: unknown): void {
  const pthread = (backend as { wasm?: { PThread?: { runningWorkers?: { unref?(): void }[]; unusedWorkers?: { unref?(): void }[] } } }).wasm?.PThread;
  for (const w of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) w.unref?.();
}

function heapOf(backend: unknown): WasmMemory | undefined {
  const m = (backend as { wasm?: { asm?: { memory?: WasmMemory } } }).wasm?.asm?.memory;
  return m instanceof WA.Memory ? m : undefined;
}

/**
 * Starts tfjs-backend-wasm with `threads` XNNPACK threads (the threaded-SIMD binary; see threads.ts)
 * and registers this project's training kernels on it. Falls back to the single-threaded binary
 * when threads cannot start. Idempotent: a second call returns the first result.
 */
export async function initWasmTraining(threads: number, opts: WasmInitOptions = {}): Promise<WasmInit> {
  if (done && tf.findBackend('wasm') != null) {
    await tf.setBackend('wasm');
    return done;
  }
  let note: string | undefined;
  let memory: WasmMemory | undefined;
  const alreadyUp = tf.findBackend('wasm') != null;
  const wantThreads = threads > 1 && !alreadyUp && sharedMemoryAvailable();
  if (threads > 1 && alreadyUp) note = 'the wasm backend was started before initBackend, single-threaded';
  if (threads > 1 && !alreadyUp && !wantThreads) note = 'shared WebAssembly memory is unavailable';

  const heapLimit = heapLimitFrom(opts);
  hookXnnPrints();
  let ok = false;
  if (wantThreads) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasmBackend.setThreadsCount(threads);
    const patch = patchForThreads(threads);
    // The threaded binary imports a memory its glue creates and does not expose; keep a handle.
    const OriginalMemory = WA.Memory;
    WA.Memory = class extends OriginalMemory {
      constructor(descriptor: WasmMemoryDescriptor) {
        super(descriptor.shared && descriptor.maximum !== undefined ? { ...descriptor, maximum: Math.min(descriptor.maximum, heapLimit / 65536) } : descriptor);
        // The glue keeps this memory private; capturing it here is the only handle on it.
        // eslint-disable-next-line @typescript-eslint/no-this-alias
        if (descriptor.shared) memory = this;
      }
    };
    try {
      ok = await tf.setBackend('wasm');
    } catch (err) {
      note = `threads failed to start: ${(err as Error).message ?? String(err)}`;
    } finally {
      WA.Memory = OriginalMemory;
      patch.restore();
    }
    if (!ok) {
      note ??= 'threads failed to start';
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasmBackend.setThreadsCount(1);
      memory = undefined;
    }
  }
  if (!ok) ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('tfjs-backend-wasm failed to initialise.');

  const backend = tf.backend();
  unrefPthreads(backend);
  memory ??= heapOf(backend);
  if (!memory) throw new Error("Cannot reach the wasm backend's heap to attach the training kernels.");
  const flavour = chooseSimdFlavour();
  const relaxed = flavour.flavour === 'relaxed';
  const heap = (backend as unknown as { wasm: Parameters<typeof installHeapGuard>[0] }).wasm;
  installHeapGuard(heap, heapLimit, () => memory!.buffer.byteLength);
  guardXnnKernels();
  const simd = instantiateKernels(memory, relaxed);
  if (isShared(memory) && threads > 1) {
    simd.pool = workerPool(simd.k, memory, { wasmPath: kernelsPath(true, relaxed), malloc: (n) => heap._malloc(n) >>> 0 });
    if (!(await simd.pool.whenReady(20_000))) note ??= "this project's kernel helper thread did not start; its kernels run on one thread";
  }
  registerTrainingKernels(simd);
  kernels = simd;
  done = {
    threads: wasmBackend.getThreadsCount(),
    simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean,
    relaxedSimd: relaxed,
    heapLimitBytes: heapLimit,
    heapBaseBytes: memory.buffer.byteLength,
    ...(note ? { note } : {}),
    ...(flavour.note ? { kernelsNote: flavour.note } : {}),
  };
  return done;
}
