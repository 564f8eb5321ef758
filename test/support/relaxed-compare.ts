// Runs every kernel family of this project's plain-SIMD and relaxed-SIMD builds on the same inputs
// and reports the largest relative difference of each (used by
// test/unit/engine/backend/wasm/relaxed-simd.test.ts, in-process or, on a runtime that has relaxed
// SIMD behind a flag, in a child process started with it).
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { kernelsPath } from '../../main/engine/backend/wasm/simd';
import type { KernelExports } from '../../main/engine/backend/wasm/exports';
import { WA } from '../../main/engine/backend/wasm/wasm-api';

function lcg(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function rel(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(a[i]));
  }
  return m === 0 ? d : d / m;
}

export function compareRelaxedWithPlain(): Record<string, number> {
  const memory = new WA.Memory({ initial: 512, maximum: 65536 });
  const load = (relaxed: boolean) => new WA.Instance(new WA.Module(fs.readFileSync(kernelsPath(false, relaxed))), { env: { memory } }).exports as unknown as KernelExports;
  const builds = { plain: load(false), relaxed: load(true) };
  const f32 = (off: number, n: number) => new Float32Array(memory.buffer, off, n);
  let top = 1024;
  const put = (data: Float32Array) => {
    const off = top;
    f32(off, data.length).set(data);
    top += Math.ceil((data.length * 4) / 16) * 16 + 16;
    return off;
  };
  const out = (n: number) => {
    const off = top;
    top += Math.ceil((n * 4) / 16) * 16 + 16;
    return off;
  };
  const errors: Record<string, number> = {};
  // Weight gradient of a 3x3 conv over 4 images of 12x12, 20 -> 12 channels (the FMA inner loop).
  {
    const [N, H, W, CI, CO] = [4, 12, 12, 20, 12];
    const x = put(lcg(N * H * W * CI, 1));
    const dy = put(lcg(N * H * W * CO, 2));
    const size = 9 * CO * CI;
    const res = Object.fromEntries(Object.entries(builds).map(([k, b]) => {
      const acc = out(size);
      f32(acc, size).fill(0);
      b.conv_dw(x, dy, H, W, CI, H, W, CO, 3, 3, 1, 1, 1, 1, 0, N, acc);
      return [k, Float32Array.from(f32(acc, size))];
    }));
    errors.conv_dw = rel(res.plain, res.relaxed);
  }
  // Batch-norm passes over 3,000 rows of 37 channels.
  {
    const [P, C] = [3000, 37];
    const x = put(lcg(P * C, 3));
    const dy = put(lcg(P * C, 4));
    const a = put(lcg(C, 5));
    const b = put(lcg(C, 6));
    const k = put(lcg(C, 7));
    for (const [name, run] of [
      ['channel_affine', (e: KernelExports, y: number) => e.channel_affine(x, P, C, a, b, y)],
      ['bn_grad_dx', (e: KernelExports, y: number) => e.bn_grad_dx(dy, x, P, C, a, b, k, y)],
    ] as const) {
      const res = Object.values(builds).map((e) => {
        const y = out(P * C);
        run(e, y);
        return Float32Array.from(f32(y, P * C));
      });
      errors[name] = rel(res[0], res[1]);
    }
    for (const name of ['col_sqdev', 'col_grad_sums'] as const) {
      const res = Object.values(builds).map((e) => {
        const tmp = out(2 * C);
        const acc = Math.ceil(out(4 * C) / 8) * 8;
        new Float64Array(memory.buffer, acc, 2 * C).fill(0);
        if (name === 'col_sqdev') e.col_sqdev(x, P, C, C, a, tmp, acc);
        else e.col_grad_sums(dy, x, P, C, a, tmp, acc);
        return Float64Array.from(new Float64Array(memory.buffer, acc, name === 'col_sqdev' ? C : 2 * C));
      });
      errors[name] = rel(res[0], res[1]);
    }
  }
  return errors;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(compareRelaxedWithPlain())}\n`);
}
