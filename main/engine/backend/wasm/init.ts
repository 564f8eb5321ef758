import * as tf from '@tensorflow/tfjs';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { registerTrainingKernels } from './register';
import { workerPool } from './pool';
import { instantiateKernels, isShared, kernelsPath } from './simd';
import { patchForThreads, sharedMemoryAvailable } from './threads';
import { WA, type WasmMemory, type WasmMemoryDescriptor } from './wasm-api';

export interface WasmInit {
  threads: number;
  simd: boolean;
  /** Why fewer threads than requested, if so. */
  note?: string;
}

let done: WasmInit | null = null;

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
export async function initWasmTraining(threads: number): Promise<WasmInit> {
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

  let ok = false;
  if (wantThreads) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasmBackend.setThreadsCount(threads);
    const patch = patchForThreads(threads);
    // The threaded binary imports a memory its glue creates and does not expose; keep a handle.
    const OriginalMemory = WA.Memory;
    WA.Memory = class extends OriginalMemory {
      constructor(descriptor: WasmMemoryDescriptor) {
        super(descriptor);
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
  const simd = instantiateKernels(memory);
  const heap = (backend as unknown as { wasm: { _malloc(n: number): number } }).wasm;
  if (isShared(memory) && threads > 1) {
    simd.pool = workerPool(simd, kernelsPath(true), (n) => heap._malloc(n) >>> 0);
    if (!(await simd.pool.whenReady(20_000))) note ??= "this project's kernel helper thread did not start; its kernels run on one thread";
  }
  registerTrainingKernels(simd);
  done = {
    threads: wasmBackend.getThreadsCount(),
    simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean,
    ...(note ? { note } : {}),
  };
  return done;
}
