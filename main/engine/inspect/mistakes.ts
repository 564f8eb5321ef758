import sharp from 'sharp';
import type { DataSplit } from '../data/types';

/**
 * What the Evaluation screen shows of a misclassified sample besides its classes: where the image
 * came from (the split's `name`, a file path relative to the dataset folder) and a thumbnail of the
 * image as the model saw it, resized to its input and before normalization.
 */
export interface MistakeDetails {
  file?: string;
  /** Base64 PNG, at most `maxSide` pixels on its longer side. */
  thumbnail?: string;
}

/** The longer side of a thumbnail, in pixels: small enough that 16 of them fit a metrics line. */
export const THUMBNAIL_SIDE = 64;

export async function mistakeDetails(split: DataSplit, indices: readonly number[], maxSide = THUMBNAIL_SIDE): Promise<MistakeDetails[]> {
  const shape = split.sampleShape;
  if (indices.length === 0) return [];
  const pixels = shape ? await split.read(indices) : null;
  return Promise.all(indices.map(async (index, k) => {
    const out: MistakeDetails = {};
    if (split.name) out.file = split.name(index);
    if (shape && pixels) {
      const [h, w, c] = shape;
      const per = h * w * c;
      const bytes = Buffer.from(Uint8Array.from(pixels.subarray(k * per, (k + 1) * per), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
      let image = sharp(bytes, { raw: { width: w, height: h, channels: c as 1 | 2 | 3 | 4 } });
      // Larger inputs shrink; small ones (28×28) stay sharp and the page scales them up pixelated.
      if (Math.max(w, h) > maxSide) image = image.resize({ width: maxSide, height: maxSide, fit: 'inside' });
      if (c === 1) image = image.toColourspace('b-w');
      out.thumbnail = (await image.png().toBuffer()).toString('base64');
    }
    return out;
  }));
}
