import type { Rng } from './rng';

/**
 * The paper's standard augmentation for CIFAR and SVHN (Huang et al., §4.1, following He et al.
 * 2016): zero-pad each side by 4 pixels, take a random crop of the original size, and flip
 * horizontally with probability 1/2. It runs on a batch of raw [0, 1] pixels (NHWC) before
 * normalization, as torchvision's RandomCrop(padding=4) + RandomHorizontalFlip do, so padding is
 * black, not the mean.
 *
 * The crop is done without building the padded image: a crop at (oy, ox) of the padded image is
 * the original shifted by (oy − pad, ox − pad), with zeros where it falls outside.
 */

export interface AugmentOptions {
  /** Pad by `pad` and crop back at a random offset. */
  padCrop: boolean;
  /** Mirror left–right with probability 1/2. */
  flip: boolean;
  /** Padding on each side, in pixels; default 4 as in the paper. */
  pad?: number;
}

/** What was drawn for each sample: lets tests check the output against a direct pad-and-crop. */
export interface AugmentDraws {
  /** Per sample, [oy, ox]: the crop's top-left corner in the padded image, each in [0, 2·pad]. */
  offsets: Int32Array;
  /** Per sample, 1 when flipped. */
  flipped: Uint8Array;
}

export function checkAugmentOptions(opts: AugmentOptions, shape: readonly [number, number, number]): number {
  const pad = opts.pad ?? 4;
  if (!Number.isInteger(pad) || pad < 0 || pad > Math.max(shape[0], shape[1])) {
    throw new RangeError(`Augmentation padding must be an integer in [0, ${Math.max(shape[0], shape[1])}] for a ${shape[0]}×${shape[1]} input; got ${pad}.`);
  }
  return pad;
}

/**
 * Augments `n` samples of `x` (N×H×W×C). Returns a new array, or `x` itself when both options are
 * off. Per sample, draws the crop offset (oy then ox) and then the flip, in that order, from `rng`.
 */
export function augmentBatch(
  x: Float32Array,
  n: number,
  shape: readonly [number, number, number],
  rng: Rng,
  opts: AugmentOptions,
): { x: Float32Array; draws: AugmentDraws } {
  const [h, w, c] = shape;
  const sample = h * w * c;
  if (x.length !== n * sample) {
    throw new RangeError(`A batch of ${n} samples of ${h}×${w}×${c} needs ${n * sample} values; got ${x.length}.`);
  }
  const pad = checkAugmentOptions(opts, shape);
  const draws: AugmentDraws = { offsets: new Int32Array(2 * n).fill(pad), flipped: new Uint8Array(n) };
  const crop = opts.padCrop && pad > 0;
  if (!crop && !opts.flip) return { x, draws };

  const out = new Float32Array(x.length); // zeros: the padding
  const row = w * c;
  for (let s = 0; s < n; s++) {
    let dy = 0;
    let dx = 0;
    if (crop) {
      const oy = rng.int(2 * pad + 1);
      const ox = rng.int(2 * pad + 1);
      draws.offsets[2 * s] = oy;
      draws.offsets[2 * s + 1] = ox;
      dy = oy - pad;
      dx = ox - pad;
    }
    const flip = opts.flip && rng.next() < 0.5;
    draws.flipped[s] = flip ? 1 : 0;
    const base = s * sample;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let xo = 0; xo < w; xo++) {
        // Output column xo shows cropped column (flip ? w-1-xo : xo), i.e. source column that + dx.
        const sx = (flip ? w - 1 - xo : xo) + dx;
        if (sx < 0 || sx >= w) continue;
        const src = base + sy * row + sx * c;
        const dst = base + y * row + xo * c;
        for (let k = 0; k < c; k++) out[dst + k] = x[src + k];
      }
    }
  }
  return { x: out, draws };
}
