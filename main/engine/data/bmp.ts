/**
 * A small BMP decoder. Written here because no library serves: sharp's prebuilt libvips has no BMP
 * loader (`sharp.format` lists jpeg, png, webp, tiff, gif, svg, heif, vips as inputs only), and
 * the pure-JS BMP packages on npm are unmaintained. It covers what cameras, Paint and PIL write:
 * uncompressed 1/4/8-bit palette, 16-bit (5-5-5 or bit fields), 24-bit and 32-bit (with or
 * without bit fields and alpha), bottom-up or top-down. RLE compression is refused with a reason.
 */

export interface DecodedBmp {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA, when the file carries an alpha mask). */
  channels: 3 | 4;
  /** Interleaved RGB(A) rows, top row first. */
  data: Uint8Array;
}

export class BmpError extends Error {}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export function isBmp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d; // "BM"
}

/** Width and height from the header alone, so a caller can refuse a huge image before decoding. */
export function bmpSize(buf: Uint8Array): { width: number; height: number } {
  const v = view(buf);
  if (!isBmp(buf)) throw new BmpError('not a BMP file (no "BM" signature)');
  if (buf.length < 26) throw new BmpError(`BMP header is truncated (${buf.length} bytes)`);
  const headerSize = v.getUint32(14, true);
  if (headerSize !== 12 && headerSize < 40) throw new BmpError(`BMP header size ${headerSize} is not one of 12, 40, 52, 56, 108, 124`);
  if (buf.length < 14 + Math.min(headerSize, 40)) throw new BmpError(`BMP header is truncated (${buf.length} bytes)`);
  if (headerSize === 12) return { width: v.getUint16(18, true), height: v.getUint16(20, true) };
  return { width: v.getInt32(18, true), height: Math.abs(v.getInt32(22, true)) };
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Position and width of a channel's bits in a mask, to scale it to 0..255. */
function maskInfo(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((mask >>> (shift + bits)) & 1) === 1 && shift + bits < 32) bits++;
  return { shift, max: 2 ** bits - 1 };
}

export function decodeBmp(buf: Uint8Array, maxPixels: number): DecodedBmp {
  const v = view(buf);
  const { width, height } = bmpSize(buf);
  if (width <= 0 || height <= 0) throw new BmpError(`BMP size ${width}×${height} is not positive`);
  if (width * height > maxPixels) {
    throw new BmpError(`BMP header claims ${width}×${height} pixels, above the limit of ${maxPixels.toLocaleString('en-US')}`);
  }
  const dataOffset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  const core = headerSize === 12;
  const topDown = !core && v.getInt32(22, true) < 0;
  const bpp = v.getUint16(core ? 24 : 28, true);
  const compression = core ? BI_RGB : v.getUint32(30, true);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    const names: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'JPEG', 5: 'PNG' };
    throw new BmpError(`BMP compression ${names[compression] ?? compression} is not supported (only uncompressed BMPs are)`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new BmpError(`BMP bit depth ${bpp} is not one of 1, 4, 8, 16, 24, 32`);

  // Channel masks: explicit bit fields follow the 40-byte header (or live inside V4/V5 headers).
  let masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0x00ff0000, 0x0000ff00, 0x000000ff, 0];
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    const at = 14 + 40;
    const n = compression === BI_ALPHABITFIELDS || headerSize >= 56 ? 4 : 3;
    if (buf.length < at + 4 * n) throw new BmpError('BMP bit-field masks are truncated');
    masks = [0, 1, 2, 3].map((i) => (i < n ? v.getUint32(at + 4 * i, true) : 0));
  } else if (bpp === 32 && headerSize >= 56) {
    // V3+ headers may declare an alpha mask even for BI_RGB; most writers put alpha in the top byte.
    const alpha = v.getUint32(14 + 52, true);
    if (alpha !== 0) masks[3] = alpha;
  }
  const hasAlpha = (bpp === 32 || bpp === 16) && masks[3] !== 0;
  const channels: 3 | 4 = hasAlpha ? 4 : 3;

  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const entrySize = core ? 3 : 4;
    const declared = core ? 0 : v.getUint32(46, true);
    const count = declared || 2 ** bpp;
    const at = 14 + headerSize;
    if (buf.length < at + count * entrySize) throw new BmpError('BMP palette is truncated');
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < Math.min(count, 256); i++) {
      palette[i * 3] = buf[at + i * entrySize + 2];
      palette[i * 3 + 1] = buf[at + i * entrySize + 1];
      palette[i * 3 + 2] = buf[at + i * entrySize];
    }
  }

  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + rowBytes * height > buf.length) {
    throw new BmpError(`BMP pixel data is truncated: expected ${rowBytes * height} bytes at offset ${dataOffset}, the file has ${buf.length} bytes`);
  }
  const info = masks.map(maskInfo);
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + rowBytes * (topDown ? y : height - 1 - y);
    let o = y * width * channels;
    for (let x = 0; x < width; x++, o += channels) {
      if (palette) {
        const bit = x * bpp;
        const byte = buf[row + (bit >>> 3)];
        const idx = (byte >>> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        out[o] = palette[idx * 3];
        out[o + 1] = palette[idx * 3 + 1];
        out[o + 2] = palette[idx * 3 + 2];
        continue;
      }
      if (bpp === 24 && compression === BI_RGB) {
        const p = row + x * 3;
        out[o] = buf[p + 2];
        out[o + 1] = buf[p + 1];
        out[o + 2] = buf[p];
        continue;
      }
      const px = bpp === 16 ? v.getUint16(row + x * 2, true) : v.getUint32(row + x * 4, true);
      for (let ch = 0; ch < channels; ch++) {
        const { shift, max } = info[ch];
        out[o + ch] = max === 0 ? 0 : Math.round((((px & masks[ch]) >>> shift) * 255) / max);
      }
    }
  }
  return { width, height, channels, data: out };
}
