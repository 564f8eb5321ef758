import { describe, expect, it } from 'vitest';
import { decodeBmp } from '../../../../main/engine/data/bmp';
import { decodeImage, probeImage } from '../../../../main/engine/data/decode';
import { encodeBmp, encodePaletteBmp } from '../../../support/data';

// sharp has no BMP loader, so the workbench decodes BMP itself (main/engine/data/bmp.ts).

const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]); // 3×2

/** A 32-bit BI_BITFIELDS BMP (V3 header with an alpha mask), bottom-up. */
function bmp32(width: number, height: number, rgba: Uint8Array): Buffer {
  const buf = Buffer.alloc(14 + 56 + width * height * 4);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(70, 10);
  buf.writeUInt32LE(56, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(32, 28);
  buf.writeUInt32LE(3, 30); // BI_BITFIELDS
  [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000].forEach((m, i) => buf.writeUInt32LE(m >>> 0, 54 + 4 * i));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 4;
      const o = 70 + ((height - 1 - y) * width + x) * 4;
      buf[o] = rgba[s + 2];
      buf[o + 1] = rgba[s + 1];
      buf[o + 2] = rgba[s];
      buf[o + 3] = rgba[s + 3];
    }
  }
  return buf;
}

describe('BMP decoder', () => {
  it('decodes 24-bit bottom-up and top-down rows with row padding', () => {
    for (const topDown of [false, true]) {
      const out = decodeBmp(encodeBmp(3, 2, rgb, { topDown }), 1e6);
      expect(out).toMatchObject({ width: 3, height: 2, channels: 3 });
      expect(Array.from(out.data)).toEqual(Array.from(rgb));
    }
  });

  it('decodes 1-, 4- and 8-bit palettes', () => {
    const palette: [number, number, number][] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]];
    const idx = [0, 1, 0, 1, 1, 0, 1, 0, 1, 1];
    const one = decodeBmp(encodePaletteBmp(5, 2, 1, palette.slice(0, 2), idx), 1e6);
    expect(Array.from(one.data)).toEqual(idx.flatMap((i) => palette[i]));
    const idx4 = [3, 2, 1, 0, 2, 3];
    for (const bpp of [4, 8] as const) {
      const out = decodeBmp(encodePaletteBmp(3, 2, bpp, palette, idx4), 1e6);
      expect(Array.from(out.data)).toEqual(idx4.flatMap((i) => palette[i]));
    }
  });

  it('decodes 32-bit bit fields with alpha', () => {
    const rgba = Uint8Array.from([1, 2, 3, 255, 4, 5, 6, 0]);
    const out = decodeBmp(bmp32(2, 1, rgba), 1e6);
    expect(out.channels).toBe(4);
    expect(Array.from(out.data)).toEqual(Array.from(rgba));
  });

  it('feeds the common decode path, resized like any other image', async () => {
    const px = await decodeImage(encodeBmp(3, 2, rgb), [2, 3, 3]);
    expect(Array.from(px)).toEqual(Array.from(rgb));
  });

  it('refuses truncated data, RLE and oversized headers with reasons', async () => {
    const full = encodeBmp(3, 2, rgb);
    expect(() => decodeBmp(full.subarray(0, full.length - 4), 1e6)).toThrow('BMP pixel data is truncated: expected 24 bytes at offset 54, the file has 74 bytes');
    const rle = Buffer.from(full);
    rle.writeUInt32LE(1, 30);
    expect(() => decodeBmp(rle, 1e6)).toThrow('BMP compression RLE8 is not supported (only uncompressed BMPs are)');
    const huge = Buffer.from(full);
    huge.writeInt32LE(30000, 18);
    huge.writeInt32LE(30000, 22);
    await expect(probeImage(huge)).rejects.toThrow('claims 30000×30000 pixels (900,000,000), above the limit of 67,108,864; it was refused without decoding');
    await expect(decodeImage(full.subarray(0, 40), [2, 2, 3])).rejects.toThrow('is not a valid BMP (BMP header is truncated (40 bytes))');
  });
});
