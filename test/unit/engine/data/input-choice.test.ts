import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseInputShape, formatSizes, sizesByCount } from '../../../../shared/dataset-input';
import { getPreset } from '../../../../shared/presets';
import { scanDataset } from '../../../../main/engine/data';
import { solidImage, tempDir, writeTree } from '../../../support/data';

/** The scan's colour modes and size histogram, and the input they choose for a model. */
const tmp = tempDir('dw-input-');

/** A grayscale file (one band in its header), as a scanner or MNIST-style dataset writes it. */
async function grayImage(format: 'png' | 'jpeg', width: number, height: number, value: number): Promise<Buffer> {
  return sharp(Buffer.alloc(width * height, value), { raw: { width, height, channels: 1 } }).toColourspace('b-w')[format]().toBuffer();
}
afterAll(() => tmp.cleanup());

describe('colour modes and sizes in the scan report', () => {
  let gray: string;
  let mixed: string;
  beforeAll(async () => {
    gray = path.join(tmp.dir, 'gray');
    writeTree(gray, {
      'a/1.png': await grayImage('png', 9, 9, 10),
      'a/2.jpg': await grayImage('jpeg', 9, 9, 20),
      'b/1.png': await grayImage('png', 9, 9, 30),
      'b/2.png': await grayImage('png', 7, 5, 40),
    });
    mixed = path.join(tmp.dir, 'mixed');
    writeTree(mixed, {
      'a/1.png': await grayImage('png', 6, 6, 10),
      'a/2.jpg': await solidImage('jpeg', 6, 6, [200, 30, 0]),
      'b/1.webp': await solidImage('webp', 6, 6, [0, 200, 0], 4),
      'b/2.bmp': await solidImage('bmp', 8, 6, [0, 0, 200]),
    });
  });

  it('counts grayscale and colour images from their headers, in a full and in a quick scan', async () => {
    for (const quick of [false, true]) {
      expect((await scanDataset({ kind: 'folder', path: gray }, { quick })).modes).toEqual({ gray: 4, color: 0 });
      expect((await scanDataset({ kind: 'folder', path: mixed }, { quick })).modes).toEqual({ gray: 1, color: 3 });
    }
  });

  it('lists sizes by count, most common first', async () => {
    const r = await scanDataset({ kind: 'folder', path: mixed });
    expect(Object.keys(r.sizes)).toEqual(['6x6', '8x6']);
    expect(sizesByCount({ '59x59': 2, '50x50': 1, '57x57': 9, '62x62': 2 }).map((s) => s.size)).toEqual(['57x57', '59x59', '62x62', '50x50']);
    expect(formatSizes({ '59x59': 2, '50x50': 1, '57x57': 9, '62x62': 2 })).toBe('57×57 (9), 59×59 (2), 62×62 (2) and 1 other size');
    expect(formatSizes({ '28x28': 10 })).toBe('28×28 (10)');
  });
});

describe('chooseInputShape', () => {
  const tiny = getPreset('demo-bc-tiny');
  const d121 = getPreset('densenet121');

  it('takes the most common size and RGB when any image is in colour', () => {
    const c = chooseInputShape({ sizes: { '57x57': 120, '59x59': 20 }, modes: { gray: 20, color: 120 } }, tiny, tiny.inputShape);
    expect(c.inputShape).toEqual([57, 57, 3]);
    expect(c.reason).toBe('Input 57×57×3: the most common image size, 57×57 (120 of 140 images); RGB, since 120 of 140 images are in colour.');
  });

  it('keeps H×W order for non-square images and grayscale when every image is', () => {
    const c = chooseInputShape({ sizes: { '40x30': 5 }, modes: { gray: 5, color: 0 } }, tiny, tiny.inputShape);
    expect(c.inputShape).toEqual([30, 40, 1]);
    expect(c.reason).toMatch(/; grayscale, since every image is\.$/);
  });

  it('falls back to the preset\'s size for photos and for images too small for the architecture', () => {
    expect(chooseInputShape({ sizes: { '640x480': 3 }, modes: { gray: 0, color: 3 } }, d121, d121.inputShape)).toEqual({
      inputShape: [224, 224, 3],
      reason: 'Input 224×224×3: densenet121\'s input size, since the most common image size, 640×480 (3 of 3 images), is larger than 256 px (images are resized to it); RGB, since the images are in colour.',
    });
    const small = chooseInputShape({ sizes: { '20x20': 3 }, modes: { gray: 3, color: 0 } }, d121, d121.inputShape);
    expect(small.inputShape).toEqual([224, 224, 1]);
    expect(small.reason).toMatch(/densenet121's input size, since the most common image size, 20×20 \(3 of 3 images\), is too small for this architecture/);
  });

  it('says when the counts are of headers only', () => {
    expect(chooseInputShape({ sizes: { '12x12': 21, '48x48': 1 }, modes: { gray: 0, color: 22 }, headersOnly: true }, tiny, tiny.inputShape).reason).toBe(
      'Input 12×12×3: the most common image size, 12×12 (21 of 22 image headers); RGB, since the images are in colour.',
    );
  });

  it('uses the fallback when the scan has no sizes', () => {
    expect(chooseInputShape({ sizes: {} }, tiny, tiny.inputShape).inputShape).toEqual([28, 28, 1]);
  });
});

describe('skippedSummary', () => {
  it('names what training leaves out: files of a folder, entries of a built-in package', async () => {
    const { skippedSummary } = await import('../../../../main/engine/data');
    const base = { root: 'r', classes: ['a', 'b'], counts: [2, 3], splits: { train: [2, 3], val: [0, 0], test: [0, 0] }, sizes: {}, errors: [], warnings: [] };
    expect(skippedSummary({ ...base, kind: 'folder', skipped: [] })).toBeNull();
    expect(skippedSummary({ ...base, kind: 'folder', skipped: [{ path: 'a/cut.jpg', reason: 'is corrupt or truncated' }] })).toBe(
      '1 file was skipped and is not trained on (5 images are used): a/cut.jpg is corrupt or truncated.',
    );
    expect(skippedSummary({ ...base, kind: 'builtin', skipped: [{ path: 'x.json[1]', reason: 'is not a 28×28 image' }, { path: 'x.json[2]', reason: 'is not a 28×28 image' }] }, 1)).toBe(
      '2 package entries were skipped and are not trained on (5 images are used): x.json[1] is not a 28×28 image; and 1 more (see the scan report).',
    );
  });
});
