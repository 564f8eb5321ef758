import sharp from 'sharp';
import { BmpError, bmpSize, decodeBmp, isBmp } from './bmp';

/**
 * Decoding one image file into the model's input: H×W×C uint8, resized with sharp and converted to
 * grayscale (C=1) or RGB (C=3). Every dataset kind and the predict/inspect code go through here,
 * so training and inference preprocess identically.
 *
 * Porting note: alpha is dropped, not composited, as PIL's `convert('RGB')` does under torchvision's
 * ImageFolder. Images are resized to exactly H×W (`fit: 'fill'`, aspect ratio not kept): simple to
 * reproduce in an exported model's preprocessing JSON, and a no-op for datasets of one size.
 */

/** File extensions accepted in image folders (lower case, with the dot). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif'] as const;

/** Default pixel limit: 8192×8192. Bigger headers are refused before any pixel is decoded. */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

export type InputShape = [number, number, number];

/** A file that can't be used, with a sentence fragment saying why (e.g. "is empty (0 bytes)"). */
export class ImageProblem extends Error {}

export interface ImageHeader {
  width: number;
  height: number;
  format: string;
  /** False when the header says grayscale (with or without alpha); palette and BMP images count as colour. */
  color: boolean;
}

function describeSharpError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/unsupported image format/i.test(msg)) return 'is not an image that can be decoded (unknown file format)';
  if (/empty/i.test(msg)) return 'is empty (0 bytes)';
  if (/pixel limit/i.test(msg)) return `is larger than the pixel limit (${msg})`;
  // Strict decoding turns libvips' warnings (data ending early, bad checksums) into this message.
  if (/failOn/i.test(msg)) return 'is corrupt or truncated (its image data is damaged or ends early)';
  return `is corrupt or truncated (${msg.replace(/\s+/g, ' ').trim()})`;
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new ImageProblem(
      `claims ${width}×${height} pixels (${(width * height).toLocaleString('en-US')}), above the limit of ` +
        `${maxPixels.toLocaleString('en-US')}; it was refused without decoding`,
    );
  }
}

/** Reads only the header: cheap, catches empty, non-image and oversized files but not truncation. */
export async function probeImage(buf: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): Promise<ImageHeader> {
  if (buf.length === 0) throw new ImageProblem('is empty (0 bytes)');
  if (isBmp(buf)) {
    try {
      const { width, height } = bmpSize(buf);
      checkPixels(width, height, maxPixels);
      return { width, height, format: 'bmp', color: true };
    } catch (err) {
      if (err instanceof ImageProblem) throw err;
      throw new ImageProblem(`is not a valid BMP (${(err as Error).message})`);
    }
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageProblem(describeSharpError(err));
  }
  if (!meta.width || !meta.height) throw new ImageProblem('has no width or height in its header');
  // For an animated GIF, metadata's height is one frame's (pageHeight) unless pages are joined.
  const height = meta.pageHeight ?? meta.height;
  checkPixels(meta.width, height, maxPixels);
  const gray = meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels !== undefined && meta.channels <= 2);
  return { width: meta.width, height, format: meta.format ?? 'unknown', color: !gray };
}

/**
 * Decodes `buf` to H×W×C uint8 in [0, 255]. Throws ImageProblem with a reason for anything unusable.
 * Decoding is strict (`failOn: 'warning'`), so a truncated PNG or JPEG is an error, not grey rows.
 */
export async function decodeImage(buf: Uint8Array, inputShape: InputShape, maxPixels = DEFAULT_MAX_PIXELS): Promise<Uint8Array> {
  return (await decodeImageWithHeader(buf, inputShape, maxPixels)).pixels;
}

/** decodeImage, also returning the source header (its size goes into the scan report). */
export async function decodeImageWithHeader(
  buf: Uint8Array,
  inputShape: InputShape,
  maxPixels = DEFAULT_MAX_PIXELS,
): Promise<{ pixels: Uint8Array; header: ImageHeader }> {
  const [h, w, c] = inputShape;
  const header = await probeImage(buf, maxPixels);
  let pipeline: sharp.Sharp;
  if (header.format === 'bmp') {
    let bmp;
    try {
      bmp = decodeBmp(buf, maxPixels);
    } catch (err) {
      if (err instanceof BmpError) throw new ImageProblem(`is not a valid BMP (${err.message})`);
      throw err;
    }
    pipeline = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } });
  } else {
    // `pages: 1` (the default) takes the first frame of a GIF or animated WebP.
    pipeline = sharp(buf, { limitInputPixels: maxPixels, failOn: 'warning', pages: 1 });
  }
  try {
    const { data, info } = await pipeline
      .removeAlpha()
      .toColourspace(c === 1 ? 'b-w' : 'srgb')
      .resize(w, h, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== w || info.height !== h || info.channels !== c || data.length !== h * w * c) {
      throw new ImageProblem(`decoded to ${info.width}×${info.height}×${info.channels} instead of ${h}×${w}×${c}`);
    }
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), header };
  } catch (err) {
    if (err instanceof ImageProblem) throw err;
    throw new ImageProblem(describeSharpError(err));
  }
}

/** Checks an input shape and says what is accepted. */
export function checkInputShape(shape: unknown): InputShape {
  if (
    !Array.isArray(shape) ||
    shape.length !== 3 ||
    !shape.every((v) => Number.isInteger(v) && v > 0) ||
    shape[0] > 4096 ||
    shape[1] > 4096
  ) {
    throw new RangeError(`An input shape must be [H, W, C] with H and W integers in 1..4096; got ${JSON.stringify(shape)}.`);
  }
  if (shape[2] !== 1 && shape[2] !== 3) {
    throw new RangeError(`An input shape's channel count must be 1 (grayscale) or 3 (RGB); got ${shape[2]}.`);
  }
  return shape as InputShape;
}
