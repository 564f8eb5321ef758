import type { DenseNetConfig } from './config';
import { validateConfig } from './validation';

/**
 * The dataset decides the model's input: its channels from the images' colour modes and its size
 * from their most common size. The New run form and `densenet-workbench train` both choose here,
 * from the same scan report, so they pick the same input and explain it in the same words.
 */

/** What a scan report says about its images (main/engine/data's ScanReport carries both). */
export interface ImageStats {
  /** Source sizes, "WxH" → count. */
  sizes: Record<string, number>;
  /** Images whose header says grayscale, and those in colour. */
  modes?: { gray: number; color: number };
  /** The counts are of readable headers (a quick scan), so a truncated file may be among them. */
  headersOnly?: boolean;
}

export interface InputChoice {
  inputShape: [number, number, number];
  /** A sentence saying what was chosen and why, e.g. for the New run form and the CLI. */
  reason: string;
}

/**
 * Images up to this side train at their own size (CIFAR and SVHN at 32, MNIST at 28, small crops);
 * larger ones (photos) are resized to the preset's input, as the ImageNet DenseNets train at 224
 * from larger photos. Training a CPU-sized net at a photo's full resolution is never what one wants.
 */
export const NATIVE_SIZE_LIMIT = 256;

/** Sizes by count, most common first (ties by name): the order every summary shows them in. */
export function sizesByCount(sizes: Record<string, number>): { size: string; count: number }[] {
  return Object.entries(sizes)
    .map(([size, count]) => ({ size, count }))
    .sort((a, b) => b.count - a.count || a.size.localeCompare(b.size));
}

/** "57×57 (120), 59×59 (20), 50×50 (10) and 4 other sizes". */
export function formatSizes(sizes: Record<string, number>, shown = 3): string {
  const all = sizesByCount(sizes);
  const head = all.slice(0, shown).map((s) => `${s.size.replace('x', '×')} (${s.count})`).join(', ');
  const rest = all.length - shown;
  return rest > 0 ? `${head} and ${rest} other size${rest === 1 ? '' : 's'}` : head;
}

/**
 * The input for a model of `model`'s architecture on these images: channels 3 when any image is in
 * colour (a grayscale image converts to RGB without loss, the reverse drops information), else 1;
 * the most common size when it is at most NATIVE_SIZE_LIMIT and the architecture accepts it, else
 * `fallback` (the preset's input) at the images' channels.
 */
export function chooseInputShape(stats: ImageStats, model: DenseNetConfig, fallback: [number, number, number]): InputChoice {
  const total = Object.values(stats.sizes).reduce((a, b) => a + b, 0);
  const color = stats.modes?.color ?? 0;
  const channels = color > 0 ? 3 : 1;
  const mode = color > 0
    ? `RGB, since ${total > 0 && color < total ? `${color} of ${total} images are` : 'the images are'} in colour`
    : 'grayscale, since every image is';
  const top = sizesByCount(stats.sizes)[0];
  const [w, h] = top ? top.size.split('x').map(Number) : [NaN, NaN];
  const counted = stats.headersOnly ? 'image headers' : 'images';
  const shown = top ? `${top.size.replace('x', '×')}${total > 0 ? ` (${top.count} of ${total} ${counted})` : ''}` : '';
  const fallbackShape: [number, number, number] = [fallback[0], fallback[1], channels];
  const preset = `${model.variant === 'custom' ? 'the model' : model.variant}'s input size`;
  const say = (shape: [number, number, number], why: string): InputChoice => ({ inputShape: shape, reason: `Input ${shape.join('×')}: ${why}; ${mode}.` });

  if (!top || !(w > 0 && h > 0)) return say(fallbackShape, preset);
  if (Math.max(w, h) > NATIVE_SIZE_LIMIT) {
    return say(fallbackShape, `${preset}, since the most common image size, ${shown}, is larger than ${NATIVE_SIZE_LIMIT} px (images are resized to it)`);
  }
  const native: [number, number, number] = [h, w, channels];
  const problem = validateConfig({ ...model, inputShape: native }).find((p) => p.field.startsWith('inputShape'));
  if (problem) return say(fallbackShape, `${preset}, since the most common image size, ${shown}, is too small for this architecture`);
  return say(native, total > 0 ? `the most common image size, ${shown}` : `the images' size, ${shown}`);
}
