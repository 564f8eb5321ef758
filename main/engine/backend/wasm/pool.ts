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
}

export function serialPool(simd: SimdKernels): Pool {
  return {
    threads: 1,
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
  return {
    threads: 2,
    split(name, a, b) {
      if (failure) throw new Error(`The kernel helper thread failed: ${(failure as Error).message}`);
      ctrl[2] = names.indexOf(name);
      ctrl[3] = a.length;
      for (let i = 0; i < a.length; i++) ctrl[4 + i] = a[i] as number;
      const gen = Atomics.add(ctrl, 0, 1) + 1;
      Atomics.notify(ctrl, 0);
      (simd.k[name] as (...args: number[]) => void)(...(b as number[]));
      for (let done = Atomics.load(ctrl, 1); done !== gen; done = Atomics.load(ctrl, 1)) {
        if (failure) throw new Error(`The kernel helper thread failed: ${(failure as Error).message}`);
        Atomics.wait(ctrl, 1, done, 1000);
      }
    },
  };
}
