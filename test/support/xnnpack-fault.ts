// Run as a child process by test/integration/engine/wasm-thread-fault.test.ts: hands an XNNPACK
// convolution an input whose second half lies past the end of the wasm heap, as a null or
// truncated allocation would. The main thread's share of the rows is in bounds; an XNNPACK worker
// thread's share faults. Without the crash handler (main/engine/backend/wasm/threads.ts) the main
// thread would wait for that worker forever.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../main/engine/backend/index';

interface Internals {
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number): tf.TensorInfo;
  wasm: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBuffer } };
}

const report = await initBackend('wasm', { threads: 2, heapLimitBytes: 64 * 2 ** 20 });
process.stdout.write(`threads ${report.threads}\n`);
const backend = tf.backend() as unknown as Internals;
const end = (backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer).byteLength;
// 64 rows of 64 pixels x 64 channels (1 MiB), placed so that only its first rows fit.
const shape = [1, 64, 64, 64];
const info = backend.makeOutput(shape, 'float32', end - 128 * 1024);
const x = tf.engine().makeTensorFromTensorInfo(info);
const w = tf.ones([3, 3, 64, 64]);
const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
process.stdout.write(`no fault: ${y.shape.join('x')}\n`);
