// A helper thread for this project's SIMD kernels (see pool.ts): it instantiates the same kernels
// module on tfjs-backend-wasm's shared memory and runs one share of each job the main thread posts.
import fs from 'node:fs';
import { workerData } from 'node:worker_threads';

const { memory, wasmPath, ctrlOffset, names, message } = workerData;
const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(wasmPath)), { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const ctrl = new Int32Array(memory.buffer, ctrlOffset, 32);
const messageLength = new Int32Array(message, 0, 1);
const messageBytes = new Uint8Array(message, 4);
// ctrl[0]: job generation, ctrl[1]: generation done, ctrl[2]: function index, ctrl[3]: argument count,
// ctrl[4..]: arguments (i32), ctrl[29]: the generation whose share failed, ctrl[31]: 1 once this thread is up.
// Starts from 0, not the current value: a job posted before this thread got here is still run.
let seen = 0;
Atomics.store(ctrl, 31, 1);
for (;;) {
  Atomics.wait(ctrl, 0, seen);
  seen = Atomics.load(ctrl, 0);
  const args = Array.from(ctrl.subarray(4, 4 + ctrl[3]));
  try {
    fns[ctrl[2]](...args);
  } catch (err) {
    // The main thread is blocked waiting for this share: tell it through the control block, since
    // an uncaught error would end this thread and leave it waiting until its deadline.
    const { written } = new TextEncoder().encodeInto(String(err?.message ?? err), messageBytes);
    messageLength[0] = written;
    Atomics.store(ctrl, 29, seen);
  }
  Atomics.store(ctrl, 1, seen);
  Atomics.notify(ctrl, 1);
}
