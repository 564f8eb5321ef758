import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';

/** Fixtures for the data tests: tiny images written with sharp, plus a BMP writer (sharp can't). */

export function tempDir(prefix = 'dw-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type Format = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp';

/** A solid-colour image: channels 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA). */
export async function solidImage(format: Format, width: number, height: number, rgb: [number, number, number], channels: 1 | 3 | 4 = 3): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    for (let k = 0; k < channels; k++) raw[p * channels + k] = channels === 1 ? rgb[0] : k < 3 ? rgb[k] : 255;
  }
  if (format === 'bmp') return encodeBmp(width, height, solidRgb(width, height, channels === 1 ? [rgb[0], rgb[0], rgb[0]] : rgb));
  const img = sharp(raw, { raw: { width, height, channels } });
  switch (format) {
    case 'png':
      return img.png().toBuffer();
    case 'jpeg':
      return img.jpeg({ quality: 95 }).toBuffer();
    case 'webp':
      return img.webp({ lossless: true }).toBuffer();
    case 'gif':
      return img.gif().toBuffer();
  }
}

export function solidRgb(width: number, height: number, rgb: readonly number[]): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) out.set(rgb.slice(0, 3), p * 3);
  return out;
}

/** Writes an uncompressed 24-bit BMP (BITMAPINFOHEADER), bottom-up unless topDown. */
export function encodeBmp(width: number, height: number, rgb: Uint8Array, opts: { topDown?: boolean } = {}): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + rowBytes * height);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(opts.topDown ? -height : height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(0, 30);
  buf.writeUInt32LE(rowBytes * height, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + rowBytes * (opts.topDown ? y : height - 1 - y);
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      buf[row + x * 3] = rgb[s + 2];
      buf[row + x * 3 + 1] = rgb[s + 1];
      buf[row + x * 3 + 2] = rgb[s];
    }
  }
  return buf;
}

/** Writes a palette BMP (1, 4 or 8 bits per pixel) from palette indices, rows top first. */
export function encodePaletteBmp(width: number, height: number, bpp: 1 | 4 | 8, palette: [number, number, number][], indices: number[]): Buffer {
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  const offset = 54 + palette.length * 4;
  const buf = Buffer.alloc(offset + rowBytes * height);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bpp, 28);
  buf.writeUInt32LE(palette.length, 46);
  palette.forEach(([r, g, b], i) => {
    buf[54 + i * 4] = b;
    buf[54 + i * 4 + 1] = g;
    buf[54 + i * 4 + 2] = r;
  });
  for (let y = 0; y < height; y++) {
    const row = offset + rowBytes * (height - 1 - y);
    for (let x = 0; x < width; x++) {
      const bit = x * bpp;
      buf[row + (bit >> 3)] |= indices[y * width + x] << (8 - bpp - (bit & 7));
    }
  }
  return buf;
}

/** A valid PNG whose IHDR claims width×height (CRC fixed, so only the size is a lie). */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await solidImage('png', 4, 4, [9, 9, 9]));
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(zlib.crc32(png.subarray(12, 29)) >>> 0, 29); // CRC over "IHDR" + 13 data bytes
  return png;
}

/** Writes `files` (relative path → contents) under `root`, creating folders. */
export function writeTree(root: string, files: Record<string, Uint8Array | string>): void {
  for (const [rel, data] of Object.entries(files)) {
    const full = path.join(root, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, data);
  }
}
