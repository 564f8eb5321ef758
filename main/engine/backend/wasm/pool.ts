import { Worker } from 'node:worker_threads';
import type { KernelExports, SimdKernels } from './simd';

/**
 * Two-way work splitting for this project's kernels. XNNPACK's pthreads only serve tfjs' own
 * operators; our kernels would run on the main thread alone, leaving the second core idle during
 * the weight gradients, BN and copies. With the threaded binary the heap is a SharedArrayBuffer, so
 * a worker_thread can run the same module on the same memory: the main thread posts a job (function
 * and i32 arguments in a control block on the heap), both threads run their share, and the main
 * thread waits on an Atomics counter. Without shared memory, jobs run serially on the caller.
 */
export type KernelName = keyof KernelExports;

export interface Pool {
  /** Runs `name(...a)` on the helper and `name(...b)` here, and returns when both are done. */
  split<N extends KernelName>(name: N, a: Parameters<KernelExports[N]>, b: Parameters<KernelExports[N]>): void;
  readonly threads: number;
  /** Resolves true once the helper takes work (false after `timeoutMs`: jobs then run serially). */
  whenReady(timeoutMs: number): Promise<boolean>;
}

export function serialPool(simd: SimdKernels): Pool {
  return {
    threads: 1,
    whenReady: async () => true,
    split(name, a, b) {
      const f = simd.k[name] as (...args: number[]) => void;
      f(...(a as number[]));
      f(...(b as number[]));
    },
  };
}

export function workerPool(simd: SimdKernels, wasmPath: string, malloc: (bytes: number) => number): Pool {
  const names = Object.keys(simd.k) as KernelName[];
  const ctrlOffset = malloc(128);
  const ctrl = new Int32Array(simd.memory.buffer as SharedArrayBuffer, ctrlOffset, 32);
  ctrl.fill(0);
  const worker = new Worker(new URL('./pool-worker.mjs', import.meta.url), {
    workerData: { memory: simd.memory, wasmPath, ctrlOffset, names },
  });
  // The helper never keeps the process alive; it just blocks in Atomics.wait between jobs.
  worker.unref();
  let failure: Error | null = null;
  worker.on('error', (err) => (failure = err));
  const run = (name: KernelName, args: readonly unknown[]) => (simd.k[name] as (...a: number[]) => void)(...(args as number[]));
  return {
    threads: 2,
    async whenReady(timeoutMs) {
      const end = Date.now() + timeoutMs;
      while (Atomics.load(ctrl, 31) !== 1 && !failure && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      return Atomics.load(ctrl, 31) === 1 && !failure;
    },
    split(name, a, b) {
      // Until the helper reports itself up (ctrl[31]), and if it never does (e.g. pool-worker.mjs
      // missing from a bundle), both shares run here. Its 'error' event cannot be seen while this
      // thread blocks, so readiness is the only signal checked before handing work over.
      if (Atomics.load(ctrl, 31) !== 1 || failure) {
        run(name, a);
        run(name, b);
        return;
      }
      ctrl[2] = names.indexOf(name);
      ctrl[3] = a.length;
      for (let i = 0; i < a.length; i++) ctrl[4 + i] = a[i] as number;
      const gen = Atomics.add(ctrl, 0, 1) + 1;
      Atomics.notify(ctrl, 0);
      run(name, b);
      const deadline = Date.now() + 600_000;
      for (let done = Atomics.load(ctrl, 1); done !== gen; done = Atomics.load(ctrl, 1)) {
        if (Date.now() > deadline) throw new Error(`The kernel helper thread did not finish ${name} within 10 minutes.`);
        Atomics.wait(ctrl, 1, done, 100);
      }
    },
  };
}
