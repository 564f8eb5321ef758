import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { z } from 'zod';
import type { ActivationMapSchema } from '../../../shared/protocol/inspect';
import { FeatureProbe } from './feature-probe';

/**
 * Activation maps for one image: for each probed layer, its top-N feature maps by
 * mean activation, each scaled to 8-bit grayscale on its own min..max (a constant map is black).
 * Layers whose output is not a spatial map (the global pool) are left out.
 */
export type ActivationMap = z.infer<typeof ActivationMapSchema>;

export interface RawActivationMap {
  layer: string;
  /** Channel indices, highest mean activation first. */
  channels: number[];
  width: number;
  height: number;
  /** One width×height 8-bit map per channel, row-major. */
  pixels: Uint8Array[];
}

export async function rawActivationMaps(probe: FeatureProbe, image: tf.Tensor, topN: number): Promise<RawActivationMap[]> {
  if (!Number.isInteger(topN) || topN < 1) throw new RangeError(`Top-N feature maps must be a whole number ≥ 1; got ${topN}.`);
  if (image.rank !== 3 && !(image.rank === 4 && image.shape[0] === 1)) {
    throw new RangeError(`Activation maps take one image, [H, W, C] or [1, H, W, C]; got shape [${image.shape.join(', ')}].`);
  }
  const layouts: { layer: string; n: number; h: number; w: number }[] = [];
  // Packed per layer: n channel indices, then n·h·w pixel values in 0..255.
  const packed = tf.tidy(() => {
    const x = image.rank === 3 ? image.expandDims(0) : image;
    const parts: tf.Tensor[] = [];
    probe.outputs(x).forEach((out, i) => {
      if (out.rank !== 4) return;
      const [, h, w, c] = out.shape as number[];
      const n = Math.min(topN, c);
      const maps = out.squeeze([0]) as tf.Tensor3D; // [h, w, c]
      const { indices } = tf.topk(maps.mean([0, 1]), n);
      const chosen = tf.gather(maps, indices, 2).transpose([2, 0, 1]).reshape([n, h * w]);
      const lo = chosen.min(1, true);
      const range = chosen.max(1, true).sub(lo);
      const scaled = chosen.sub(lo).div(tf.maximum(range, 1e-12)).mul(255).round();
      parts.push(indices.toFloat(), scaled.reshape([-1]));
      layouts.push({ layer: probe.layers[i], n, h, w });
    });
    return parts.length ? tf.concat(parts) : tf.zeros([0]);
  });
  let data: Float32Array;
  try {
    data = (await packed.data()) as Float32Array;
  } finally {
    packed.dispose();
  }
  let o = 0;
  return layouts.map(({ layer, n, h, w }) => {
    const channels = Array.from(data.subarray(o, o + n), Math.round);
    o += n;
    const pixels: Uint8Array[] = [];
    for (let j = 0; j < n; j++, o += h * w) pixels.push(Uint8Array.from(data.subarray(o, o + h * w)));
    return { layer, channels, width: w, height: h, pixels };
  });
}

export function grayscalePng(pixels: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w') // else sharp widens one channel to sRGB
    .png()
    .toBuffer();
}

/** The maps as the protocol carries them: one base64 PNG per channel. */
export async function encodeActivationMaps(raw: readonly RawActivationMap[]): Promise<ActivationMap[]> {
  return Promise.all(
    raw.map(async (m) => ({
      layer: m.layer,
      channels: m.channels,
      width: m.width,
      height: m.height,
      pngs: await Promise.all(m.pixels.map(async (p) => (await grayscalePng(p, m.width, m.height)).toString('base64'))),
    })),
  );
}

/**
 * One sheet per layer for the CLI: the maps side by side, each scaled up (nearest neighbour, so
 * pixels stay visible) to at least `minTile` pixels and separated by a 2-pixel gap.
 */
export async function activationSheet(map: RawActivationMap, minTile = 64): Promise<Buffer> {
  const scale = Math.max(1, Math.ceil(minTile / Math.max(map.width, map.height)));
  const tw = map.width * scale;
  const th = map.height * scale;
  const gap = 2;
  const width = map.pixels.length * (tw + gap) - gap;
  const sheet = new Uint8Array(width * th).fill(128);
  map.pixels.forEach((p, j) => {
    const x0 = j * (tw + gap);
    for (let y = 0; y < th; y++) {
      const sy = Math.floor(y / scale) * map.width;
      for (let x = 0; x < tw; x++) sheet[y * width + x0 + x] = p[sy + Math.floor(x / scale)];
    }
  });
  return grayscalePng(sheet, width, th);
}
