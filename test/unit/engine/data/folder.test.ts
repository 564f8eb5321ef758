import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, DatasetError, iterateBatches, loadDataset, type LoadedDataset } from '../../../../main/engine/data';
import { stratifiedSplit } from '../../../../main/engine/data/split';
import { encodeBmp, solidImage, solidRgb, tempDir, writeTree } from '../../../support/data';

const tmp = tempDir('dw-folder-');
afterAll(() => tmp.cleanup());

/** Every pixel of every sample in `x` equals `rgb`/255 (within `tol` levels). */
function expectSolid(x: Float32Array, rgb: number[], tol = 0): void {
  const c = rgb.length;
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] * 255 - rgb[i % c])).toBeLessThanOrEqual(tol + 1e-3);
}

describe('image folder: formats, sizes and colour modes', () => {
  const root = path.join(tmp.dir, 'formats');
  let rgb: LoadedDataset;
  let grey: LoadedDataset;
  beforeAll(async () => {
    const red = await sharp({ create: { width: 5, height: 5, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
    const blue = await sharp({ create: { width: 5, height: 5, channels: 3, background: { r: 0, g: 0, b: 255 } } }).png().toBuffer();
    writeTree(root, {
      'a/1.png': await solidImage('png', 12, 9, [200, 30, 40]),
      'a/2.jpg': await solidImage('jpeg', 16, 16, [200, 30, 40]),
      'a/3.webp': await solidImage('webp', 7, 11, [200, 30, 40], 4), // RGBA: alpha dropped
      'a/4.bmp': encodeBmp(3, 5, solidRgb(3, 5, [200, 30, 40])),
      'a/5.GIF': await solidImage('gif', 8, 8, [200, 30, 40]),
      'b/1.png': await solidImage('png', 10, 10, [90, 90, 90], 1), // grayscale source
      'b/2.gif': await sharp([red, blue], { join: { animated: true } }).gif().toBuffer(), // first frame is red
      'b/3.png': await sharp(new Uint16Array(4 * 3 * 3).fill(60000), { raw: { width: 4, height: 3, channels: 3 } }).toColourspace('rgb16').png().toBuffer(),
    });
    rgb = await loadDataset({ kind: 'folder', path: root }, { inputShape: [4, 6, 3], valFraction: 0 });
    grey = await loadDataset({ kind: 'folder', path: root }, { inputShape: [4, 6, 1], valFraction: 0 });
  });

  it('decodes PNG, JPEG, WebP, BMP and GIF to the input shape', async () => {
    expect(rgb.classes).toEqual(['a', 'b']);
    expect(rgb.report.counts).toEqual([5, 3]);
    expect(rgb.report.skipped).toEqual([]);
    expect(rgb.report.sizes).toEqual({ '12x9': 1, '16x16': 1, '7x11': 1, '3x5': 1, '8x8': 1, '10x10': 1, '5x5': 1, '4x3': 1 });
    expect(rgb.train.size).toBe(8);
    expect(Array.from(rgb.train.labels)).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    const x = await rgb.train.read([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(x.length).toBe(8 * 4 * 6 * 3);
    const sample = 4 * 6 * 3;
    for (const i of [0, 2, 3, 4]) expectSolid(x.subarray(i * sample, (i + 1) * sample), [200, 30, 40]);
    expectSolid(x.subarray(1 * sample, 2 * sample), [200, 30, 40], 4); // JPEG is lossy
    expectSolid(x.subarray(5 * sample, 6 * sample), [90, 90, 90]); // grey replicated to RGB
    expectSolid(x.subarray(6 * sample, 7 * sample), [255, 0, 0]); // the GIF's first frame
    expectSolid(x.subarray(7 * sample, 8 * sample), [233.5, 233.5, 233.5], 1); // 16-bit: 60000/257
  });

  it('converts to grayscale when C is 1', async () => {
    const x = await grey.train.read([5, 6]);
    expect(x.length).toBe(2 * 4 * 6);
    expectSolid(x.subarray(0, 24), [90]);
    const red = x[24] * 255;
    expect(red).toBeGreaterThan(40); // pure red has a mid-dark luminance, not 0 and not 255
    expect(red).toBeLessThan(140);
  });

  it('resizes without flipping or transposing', async () => {
    const dir = path.join(tmp.dir, 'orient');
    // Left half black, right half white; top-down BMP rows to check that path too.
    const px = new Uint8Array(8 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 4; x < 8; x++) px.fill(255, (y * 8 + x) * 3, (y * 8 + x) * 3 + 3);
    writeTree(dir, { 'l/a.bmp': encodeBmp(8, 4, px, { topDown: true }), 'l/b.png': await sharp(px, { raw: { width: 8, height: 4, channels: 3 } }).png().toBuffer(), 'r/c.bmp': encodeBmp(8, 4, px) });
    const ds = await loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 1], valFraction: 0 });
    const x = Array.from(await ds.train.read([0, 1, 2]));
    // Lanczos resampling rings a little at the edge, so compare dark against bright.
    expect(x.map((v) => (v < 0.1 ? 0 : v > 0.9 ? 1 : v))).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  });
});

/** A folder whose every image has its own grey level, so pixel values identify files. */
async function distinctFolder(dir: string, layout: Record<string, number>): Promise<void> {
  let level = 1;
  const files: Record<string, Uint8Array> = {};
  for (const [prefix, n] of Object.entries(layout)) {
    for (let i = 0; i < n; i++, level++) files[`${prefix}/${i}.png`] = await solidImage('png', 2, 2, [level, level, level], 1);
  }
  writeTree(dir, files);
}

async function levels(ds: LoadedDataset, split: 'train' | 'val' | 'test'): Promise<number[]> {
  const s = ds[split]!;
  const x = await s.read(Array.from({ length: s.size }, (_, i) => i));
  return Array.from({ length: s.size }, (_, i) => Math.round(x[i * 4] * 255)).sort((a, b) => a - b);
}

describe('splits', () => {
  it('uses train/, val/ and test/ folders when present', async () => {
    const dir = path.join(tmp.dir, 'explicit');
    await distinctFolder(dir, { 'train/cat': 3, 'train/dog': 2, 'val/cat': 1, 'val/dog': 1, 'test/dog': 2 });
    const ds = await loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 1] });
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.report.splits).toEqual({ train: [3, 2], val: [1, 1], test: [0, 2] });
    expect(await levels(ds, 'train')).toEqual([1, 2, 3, 4, 5]);
    expect(await levels(ds, 'val')).toEqual([6, 7]);
    expect(await levels(ds, 'test')).toEqual([8, 9]);
    expect(Array.from(ds.test!.labels)).toEqual([1, 1]);
  });

  it('carves val from train/ when there is no val/ folder', async () => {
    const dir = path.join(tmp.dir, 'train-test');
    await distinctFolder(dir, { 'train/a': 10, 'train/b': 10, 'test/a': 1, 'test/b': 1 });
    const ds = await loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 1], valFraction: 0.2 });
    expect(ds.report.splits).toEqual({ train: [8, 8], val: [2, 2], test: [1, 1] });
    expect(await levels(ds, 'test')).toEqual([21, 22]);
  });

  it('is stratified and reproducible per seed', async () => {
    const dir = path.join(tmp.dir, 'strat');
    await distinctFolder(dir, { a: 20, b: 10, c: 5 });
    const load = (seed: number) => loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 1], valFraction: 0.2, seed });
    const [s1, s1again, s2] = await Promise.all([load(1), load(1), load(2)]);
    expect(s1.report.splits.val).toEqual([4, 2, 1]);
    expect(s1.report.splits.train).toEqual([16, 8, 4]);
    expect(await levels(s1, 'val')).toEqual(await levels(s1again, 'val'));
    expect(await levels(s1, 'val')).not.toEqual(await levels(s2, 'val'));
    expect([...(await levels(s1, 'train')), ...(await levels(s1, 'val'))].sort((a, b) => a - b)).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
  });

  it('apportions validation by largest remainder and keeps a training sample per class', () => {
    const labels = [0, 0, 0, 1, 1, 1, 2];
    const { train, val } = stratifiedSplit(labels, 3, 0.5, 7);
    expect(val).toHaveLength(4); // round(7 × 0.5)
    expect(val.filter((i) => labels[i] === 2)).toEqual([]); // the one-image class trains
    expect(val.filter((i) => labels[i] === 0)).toHaveLength(2);
    expect([...train, ...val].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(() => stratifiedSplit(labels, 3, 1, 7)).toThrow('valFraction must be in [0, 1); got 1.');
  });
});

describe('memory budget', () => {
  it('streams from disk with a tiny budget and yields the same batches as the cached mode', async () => {
    const dir = path.join(tmp.dir, 'stream');
    await distinctFolder(dir, { a: 9, b: 8 });
    const opts = { inputShape: [2, 2, 1] as [number, number, number], valFraction: 0.25, seed: 3 };
    const cached = await loadDataset({ kind: 'folder', path: dir }, opts);
    const streamed = await loadDataset({ kind: 'folder', path: dir }, { ...opts, memoryBudgetBytes: 8 });
    expect(cached.cached).toBe(true);
    expect(streamed.cached).toBe(false);
    for (const split of ['train', 'val'] as const) {
      const run = async (ds: LoadedDataset) => {
        const out: { x: number[]; y: number[] }[] = [];
        const it = iterateBatches(ds[split], { batchSize: 4, shuffle: true, rng: createRng(11), augment: { padCrop: true, flip: true, pad: 1 } });
        for await (const b of it) out.push({ x: Array.from(b.x), y: Array.from(b.y) });
        return out;
      };
      expect(await run(streamed)).toEqual(await run(cached));
    }
  });
});

describe('a file that changes after loading', () => {
  it('is named when streaming has to decode it again and cannot', async () => {
    const dir = path.join(tmp.dir, 'changing');
    const png = await solidImage('png', 2, 2, [7, 7, 7], 1);
    // More images than the LRU's 256-sample floor, so the first ones are evicted after the load.
    writeTree(dir, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`${i < 150 ? 'a' : 'b'}/${String(i).padStart(3, '0')}.png`, png])));
    const ds = await loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 1], valFraction: 0, memoryBudgetBytes: 0 });
    expect(ds.cached).toBe(false);
    writeTree(dir, { 'a/000.png': 'overwritten' });
    await expect(ds.train.read([0])).rejects.toThrow(/^Image a\/000\.png is not an image that can be decoded \(unknown file format\); it was readable when the dataset was loaded, so it changed since\.$/);
    expect(Array.from(await ds.train.read([1]))).toEqual(new Array(4).fill(Math.fround(7 / 255)));
  });
});

describe('dataset errors', () => {
  it('reports a missing folder', async () => {
    const err = (await loadDataset({ kind: 'folder', path: path.join(tmp.dir, 'nope') }, { inputShape: [2, 2, 1] }).catch((e: unknown) => e)) as DatasetError;
    expect(err).toBeInstanceOf(DatasetError);
    expect(err.report.errors).toEqual([`Dataset folder ${path.join(tmp.dir, 'nope')} does not exist.`]);
    expect(err.message).toBe(`The dataset at ${path.join(tmp.dir, 'nope')} cannot be used:\n  - Dataset folder ${path.join(tmp.dir, 'nope')} does not exist.`);
  });

  it('needs at least 2 classes', async () => {
    const dir = path.join(tmp.dir, 'one-class');
    await distinctFolder(dir, { only: 3 });
    await expect(loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 1] })).rejects.toThrow('The dataset has 1 class ("only"); at least 2 are needed.');
  });

  it('rejects an empty class, even when its files are only skipped ones', async () => {
    const dir = path.join(tmp.dir, 'empty-class');
    await distinctFolder(dir, { a: 2, b: 2 });
    writeTree(dir, { 'c/broken.png': 'not a png' });
    const err = (await loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 1] }).catch((e: unknown) => e)) as DatasetError;
    expect(err.report.errors).toEqual(['Class "c" has no usable images (their files were skipped; see the skipped list). Every class needs at least one image.']);
  });

  it('rejects bad options with sentences', async () => {
    const dir = path.join(tmp.dir, 'strat');
    await expect(loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 2] })).rejects.toThrow("An input shape's channel count must be 1 (grayscale) or 3 (RGB); got 2.");
    await expect(loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 1], valFraction: 1.5 })).rejects.toThrow('valFraction must be in [0, 1); got 1.5.');
    await expect(loadDataset({ kind: 'zip', path: dir } as never, { inputShape: [2, 2, 1] })).rejects.toThrow(/^A dataset must be/);
  });

  it('fingerprints the file list', async () => {
    const dir = path.join(tmp.dir, 'fp');
    await distinctFolder(dir, { a: 2, b: 2 });
    const load = () => loadDataset({ kind: 'folder', path: dir }, { inputShape: [2, 2, 1] });
    const before = (await load()).fingerprint;
    expect((await load()).fingerprint).toBe(before);
    writeTree(dir, { 'b/new.png': await solidImage('png', 2, 2, [0, 0, 0]) });
    expect((await load()).fingerprint).not.toBe(before);
    expect(before).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
