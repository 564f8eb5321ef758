import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { WA } from './wasm-api';

/**
 * Running tfjs-backend-wasm's threaded-SIMD binary under Node.
 *
 * Upstream disables it in Node (WASM_HAS_MULTITHREAD_SUPPORT returns false when IS_NODE; tfjs issue
 * 3830), yet its Emscripten glue does support Node's worker_threads. Two things stop it:
 * 1. The pthread worker script is handed over as a Blob URL, which Node's `Worker` rejects
 *    (ERR_WORKER_PATH). We write the same script to a file and answer that Blob's
 *    `URL.createObjectURL` with the file's path. The worker then receives the module's main script
 *    as a Blob too; a small suffix points it at the package's own wasm-out/*.js instead.
 * 2. The XNNPACK pool size is capped at `emscripten_num_logical_cores() / 2` (upstream assumes
 *    2 hyper-threads a core), which is `os.cpus().length / 2` in Node: 1 on a 2-core machine.
 *    While the module initialises, `os.cpus()` reports twice the requested thread count so the cap
 *    equals the request.
 * Both patches are applied only for the duration of the backend's initialisation.
 *
 * The worker script also gets a last-resort crash handler. A pthread whose work faults dies, and
 * the main thread, blocked in XNNPACK's thread pool waiting for that work, would wait forever (the
 * hang behind a DenseNet-121 that outgrew the heap). The handler prints why, leaves a fatal note
 * (fatal-note.ts) and ends the process, so the host sees a dead trainer instead of a silent one.
 */
const require = createRequire(import.meta.url);

interface ThreadPatch {
  restore(): void;
}

function packageDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

function writeWorkerFile(): { file: string; blobSize: number } {
  const dir = packageDir();
  const mainScript = path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // Same escaping tfjs applies before making its Blob (backend_wasm.ts, locateFile).
  const body = wasmWorkerContents.replace(/\n/g, '\\n');
  const fatal = `function(x){const m='An XNNPACK worker thread of the wasm backend failed ('+String(x&&x.message||x)+'); the process ends, since its main thread would wait for that thread forever. The run keeps its last checkpoint.';try{require('fs').writeSync(2,'densenet-workbench: '+m+'\\n');require('fs').writeFileSync(require('path').join(require('os').tmpdir(),'densenet-workbench-fatal-'+process.pid+'.txt'),m)}finally{process.kill(process.pid,'SIGKILL')}}`;
  const suffix = `\n;{const o=self.onmessage,f=${fatal};self.onmessage=e=>{if(e.data&&e.data.cmd==='load'&&typeof e.data.urlOrBlob!=='string'){e.data.urlOrBlob=${JSON.stringify(mainScript)}}try{return o(e)}catch(x){if(e.data&&e.data.cmd==='run'&&x!=='unwind')f(x);throw x}}}\n`;
  const text = body + suffix;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `densenet-workbench-tfjs-wasm-worker-${hash}.cjs`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
  return { file, blobSize: Buffer.byteLength(body) };
}

export function patchForThreads(threads: number): ThreadPatch {
  const { file, blobSize } = writeWorkerFile();
  const originalCreate = URL.createObjectURL;
  URL.createObjectURL = (obj: Blob) =>
    obj instanceof Blob && obj.type === 'application/javascript' && obj.size === blobSize ? file : originalCreate(obj);
  const originalCpus = os.cpus;
  os.cpus = () => {
    const cpus = originalCpus.call(os);
    const model = cpus[0] ?? ({ model: 'cpu', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } } as os.CpuInfo);
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % Math.max(1, cpus.length)] ?? model);
  };
  return {
    restore() {
      URL.createObjectURL = originalCreate;
      os.cpus = originalCpus;
    },
  };
}

/** Threads worth using: the cores this process may run on, capped at XNNPACK-in-tfjs' maximum of 8. */
export function defaultThreadCount(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, n));
}

export function sharedMemoryAvailable(): boolean {
  try {
    new WA.Memory({ initial: 1, maximum: 1, shared: true });
    return typeof SharedArrayBuffer === 'function';
  } catch {
    return false;
  }
}
