import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError, loadDataset, scanDataset, type ScanReport } from '../../../../main/engine/data';
import { readImageFile } from '../../../../main/engine/data/examine';
import { pngClaiming, solidImage, tempDir, writeTree } from '../../../support/data';

// Bad input and hostile datasets: every planted file gets its own
// line in the scan report with a reason, nothing crashes, and the good images still load.

const tmp = tempDir('dw-hostile-');
const root = path.join(tmp.dir, 'ds');
const reasonOf = (r: ScanReport, rel: string) => r.skipped.find((s) => s.path === rel)?.reason;

beforeAll(async () => {
  const png = await solidImage('png', 12, 10, [200, 30, 30]);
  const jpg = await solidImage('jpeg', 16, 16, [30, 200, 30]);
  writeTree(root, {
    'apple/ok1.png': png,
    'apple/ok2.jpg': jpg,
    'apple/ok3.webp': await solidImage('webp', 9, 7, [1, 2, 3], 4),
    'apple/empty.png': new Uint8Array(0),
    'apple/truncated.png': png.subarray(0, png.length - 20),
    'apple/truncated.jpg': jpg.subarray(0, Math.floor(jpg.length * 0.6)),
    'apple/not-an-image.png': 'this is text, not a PNG\n',
    'apple/readme.txt': 'notes',
    'apple/huge.png': await pngClaiming(30000, 30000),
    'banana/b1.png': await solidImage('png', 12, 10, [1, 1, 200], 1),
    'banana/b2.gif': await solidImage('gif', 12, 10, [1, 1, 200]),
    'banana/nested/b3.png': png,
    'cherry/only.png': png,
    'stray.png': png,
  });
  symlinkSync('..', path.join(root, 'banana', 'nested', 'loop')); // a directory loop
  symlinkSync('self.png', path.join(root, 'banana', 'self.png')); // ELOOP on stat
  symlinkSync('nowhere.png', path.join(root, 'banana', 'dangling.png'));
  execFileSync('mkfifo', [path.join(root, 'banana', 'pipe.png')]); // would block a naive reader
  mkdirSync(path.join(root, 'durian')); // an empty class
});
afterAll(() => tmp.cleanup());

describe('scan report of a folder with planted bad files', () => {
  let quick: ScanReport;
  let full: ScanReport;
  beforeAll(async () => {
    quick = await scanDataset({ kind: 'folder', path: root }, { quick: true });
    full = await scanDataset({ kind: 'folder', path: root }, { inputShape: [8, 8, 3] });
  });

  it('gives each bad file a reason', () => {
    for (const r of [quick, full]) {
      expect(reasonOf(r, 'apple/empty.png')).toBe('is empty (0 bytes)');
      expect(reasonOf(r, 'apple/not-an-image.png')).toMatch(/^is not an image that can be decoded \(unknown file format\)$/);
      expect(reasonOf(r, 'apple/readme.txt')).toMatch(/^is not an image file \(extension "\.txt"; accepted: \.png, \.jpg/);
      expect(reasonOf(r, 'apple/huge.png')).toMatch(/^claims 30000×30000 pixels \(900,000,000\), above the limit of 67,108,864; it was refused without decoding$/);
      expect(reasonOf(r, 'banana/nested/loop/')).toMatch(/symbolic link to a folder that was already scanned/);
      expect(reasonOf(r, 'banana/self.png')).toMatch(/^is a symbolic link loop/);
      expect(reasonOf(r, 'banana/dangling.png')).toMatch(/^is a broken symbolic link/);
      expect(reasonOf(r, 'banana/pipe.png')).toMatch(/^is not a regular file/);
      expect(reasonOf(r, 'stray.png')).toBe('is not inside a class folder');
    }
  });

  it('never blocks on a FIFO, even one that appeared after the walk', async () => {
    await expect(readImageFile(path.join(root, 'banana', 'pipe.png'))).rejects.toThrow('is not a regular file; it was not read');
  });

  it('catches truncated PNG and JPEG files', () => {
    // A truncated JPEG already fails at its header; a PNG cut in its data only when decoded.
    expect(reasonOf(quick, 'apple/truncated.png')).toBeUndefined();
    // libvips words it as "end of stream" or as a warning turned error, depending on timing.
    expect(reasonOf(full, 'apple/truncated.png')).toMatch(/^is corrupt or truncated \((.*end of stream|its image data is damaged or ends early)\)$/);
    // For the JPEG, libvips' own words, or its generic header message when another decoding thread
    // took the error detail first (seen under load).
    expect(reasonOf(full, 'apple/truncated.jpg')).toMatch(/^is corrupt or truncated \((.*premature end of JPEG|Input buffer has corrupt header)/i);
    expect(reasonOf(quick, 'apple/truncated.jpg')).toMatch(/^is corrupt or truncated/);
    expect(quick.verified).toBe(false);
    expect(full.verified).toBe(true);
  });

  it('counts the good images, mixed sizes and colour modes included', () => {
    expect(full.classes).toEqual(['apple', 'banana', 'cherry', 'durian']);
    expect(full.counts).toEqual([3, 3, 1, 0]);
    expect(full.sizes).toEqual({ '12x10': 5, '16x16': 1, '9x7': 1 });
    expect(full.skipped).toHaveLength(11);
  });

  it('reports the empty class as an error and the one-image class as a warning', () => {
    expect(full.errors).toEqual(['Class "durian" has no usable images. Every class needs at least one image.']);
    expect(full.warnings).toContain('Class "cherry" has only one image; it is used for training only, and accuracy on it cannot be validated.');
  });

  it('makes loadDataset throw a user error that lists the problems and carries the report', async () => {
    const err = await loadDataset({ kind: 'folder', path: root }, { inputShape: [8, 8, 3] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    const e = err as DatasetError;
    expect(e.user).toBe(true);
    expect(e.message).toContain('Class "durian" has no usable images');
    expect(e.report.skipped.map((s) => s.path)).toContain('apple/truncated.png');
  });

  it('loads the good images once the empty class is gone, the one-image class training only', async () => {
    const sub = path.join(tmp.dir, 'no-empty');
    writeTree(sub, { 'a/1.png': await solidImage('png', 4, 4, [0, 0, 0]), 'a/2.png': await solidImage('png', 4, 4, [0, 0, 0]), 'b/1.png': await solidImage('png', 5, 5, [255, 255, 255]), 'b/bad.png': 'x' });
    const ds = await loadDataset({ kind: 'folder', path: sub }, { inputShape: [4, 4, 1], valFraction: 0.5 });
    expect(ds.report.counts).toEqual([2, 1]);
    expect(ds.report.splits.train).toEqual([1, 1]);
    expect(ds.report.splits.val).toEqual([1, 0]);
    expect(Array.from(await ds.train.read([1]))).toEqual(new Array(16).fill(1));
  });
});

describe('thousands of classes with unicode folder names', () => {
  it('scans 2,000 one-image classes', async () => {
    const many = path.join(tmp.dir, 'many');
    const png = await solidImage('png', 2, 2, [5, 6, 7]);
    const names = Array.from({ length: 2000 }, (_, i) => `${['猫', 'Ωmega', 'café', 'ñandú', '😀', 'Ж'][i % 6]}-${i}`);
    for (const n of names) writeTree(many, { [`${n}/x.png`]: png });
    const r = await scanDataset({ kind: 'folder', path: many }, { quick: true });
    expect(r.classes).toHaveLength(2000);
    expect([...r.classes].sort()).toEqual([...names].sort());
    expect(r.counts.every((c) => c === 1)).toBe(true);
    expect(r.errors).toEqual([]);
    expect(r.warnings[0]).toMatch(/^2000 classes have only one image: .* and 1990 more; it is used for training only/);
    expect(r.samples?.['猫-0']).toEqual([path.join(many, '猫-0', 'x.png')]);
  });
});
