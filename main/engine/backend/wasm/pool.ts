import { Worker } from 'node:worker_threads';
import { callKernel, type KernelExports, type KernelName } from './exports';
import type { WasmMemory } from './wasm-api';

/**
 * Two-way work splitting for this project's kernels. XNNPACK's pthreads only serve tfjs' own
 * operators; our kernels would run on the main thread alone, leaving the second core idle during
 * the weight gradients, BN and copies. With the threaded binary the heap is a SharedArrayBuffer, so
 * a worker_thread can run the same module on the same memory: the main thread posts a job (function
 * and i32 arguments in a control block on the heap), both threads run their share, and the main
 * thread waits on an Atomics counter. Without shared memory, jobs run serially on the caller.
 *
 * The main thread blocks while it waits, so the helper's 'error' and 'exit' events cannot reach it
 * then. The helper therefore reports a failed share in the control block itself (and the main
 * thread throws it), and a helper that stops answering is given up on after a deadline that scales
 * with the main thread's own share of the job.
 */
export interface Pool {
  /** Runs `name(...a)` on the helper and `name(...b)` here, and returns when both are done. */
  split<N extends KernelName>(name: N, a: Parameters<KernelExports[N]>, b: Parameters<KernelExports[N]>): void;
  readonly threads: number;
  /** Resolves true once the helper takes work (false after `timeoutMs`: jobs then run serially). */
  whenReady(timeoutMs: number): Promise<boolean>;
}

/** ctrl: [0] job generation, [1] generation done, [2] function, [3] argument count, [4..] arguments, [29] generation that failed, [31] 1 once the helper is up. */
const CTRL_INTS = 32;
const FAILED = 29;
const READY = 31;
const MESSAGE_BYTES = 1024;

export class KernelThreadError extends Error {}

export function serialPool(k: KernelExports): Pool {
  return {
    threads: 1,
    whenReady: async () => true,
    split(name, a, b) {
      callKernel(k, name, a);
      callKernel(k, name, b);
    },
  };
}

export interface WorkerPoolOptions {
  wasmPath: string;
  malloc: (bytes: number) => number;
  /** The least time the helper gets for its share before it counts as lost (default 30 s). */
  minDeadlineMs?: number;
}

export function workerPool(k: KernelExports, memory: WasmMemory, opts: WorkerPoolOptions): Pool {
  const names = Object.keys(k) as KernelName[];
  const ctrlOffset = opts.malloc(4 * CTRL_INTS);
  const ctrl = new Int32Array(memory.buffer as SharedArrayBuffer, ctrlOffset, CTRL_INTS);
  ctrl.fill(0);
  const message = new SharedArrayBuffer(4 + MESSAGE_BYTES);
  const worker = new Worker(new URL('./pool-worker.mjs', import.meta.url), {
    workerData: { memory, wasmPath: opts.wasmPath, ctrlOffset, names, message },
  });
  // The helper never keeps the process alive; it just blocks in Atomics.wait between jobs.
  worker.unref();
  let failure: Error | null = null;
  worker.on('error', (err) => (failure = err));
  worker.on('exit', (code) => (failure ??= new KernelThreadError(`The kernel helper thread exited (code ${code}).`)));
  const minDeadline = opts.minDeadlineMs ?? 30_000;
  const helperMessage = () => {
    const len = new Int32Array(message, 0, 1)[0];
    return new TextDecoder().decode(new Uint8Array(message, 4, Math.min(len, MESSAGE_BYTES)).slice());
  };
  return {
    threads: 2,
    async whenReady(timeoutMs) {
      const end = Date.now() + timeoutMs;
      while (Atomics.load(ctrl, READY) !== 1 && !failure && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      return Atomics.load(ctrl, READY) === 1 && !failure;
    },
    split(name, a, b) {
      // Until the helper reports itself up, and if it never does (e.g. pool-worker.mjs missing from
      // a bundle) or it has died, both shares run here.
      if (Atomics.load(ctrl, READY) !== 1 || failure) {
        callKernel(k, name, a);
        callKernel(k, name, b);
        return;
      }
      ctrl[2] = names.indexOf(name);
      ctrl[3] = a.length;
      for (let i = 0; i < a.length; i++) ctrl[4 + i] = a[i] as number;
      const gen = Atomics.add(ctrl, 0, 1) + 1;
      Atomics.notify(ctrl, 0);
      const t0 = Date.now();
      callKernel(k, name, b);
      const deadline = Date.now() + Math.max(minDeadline, 50 * (Date.now() - t0));
      for (let done = Atomics.load(ctrl, 1); done !== gen; done = Atomics.load(ctrl, 1)) {
        if (Date.now() > deadline) {
          failure = new KernelThreadError(`The kernel helper thread did not finish its share of ${name} in ${Math.round((deadline - t0) / 1000)} s; its kernels now run on one thread.`);
          throw failure;
        }
        Atomics.wait(ctrl, 1, done, 50);
      }
      if (Atomics.load(ctrl, FAILED) === gen) {
        throw new KernelThreadError(`The kernel helper thread failed in ${name}: ${helperMessage()}`);
      }
    },
  };
}
