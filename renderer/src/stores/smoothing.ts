/**
 * The per-step training curves, made readable: one batch's loss and accuracy are noisy, and the
 * last batch of an epoch can hold only a couple of images (its accuracy is then 0%, 50% or 100%).
 *
 * - `Smoother`: an exponential moving average in which each point counts by its batch's share of a
 *   full batch, so a 2-image batch moves the curve by 2/32 of what a full one does. It is
 *   debiased as TensorBoard's smoothing is (divided by the weight seen so far), so the curve starts
 *   at the first value rather than rising from 0.
 * - `EpochMean`: the mean over an epoch's images so far, weighted by batch size, for runs whose
 *   step events do not carry it (`epochLoss`, recorded by older trainers).
 * Written here: chart.js has no weighted smoothing.
 */
export class Smoother {
  private value = 0;
  private weight = 0;

  /** `tau`: the time constant, in full batches (larger is smoother). */
  constructor(private readonly tau: number) {}

  /** Adds `x` with weight `share` (images / full batch, in (0, 1]); returns the smoothed value. */
  add(x: number, share = 1): number {
    const decay = Math.exp(-Math.max(0, share) / Math.max(1e-9, this.tau));
    this.value = decay * this.value + (1 - decay) * x;
    this.weight = decay * this.weight + (1 - decay);
    return this.weight > 0 ? this.value / this.weight : x;
  }
}

/** The time constant for a run with `stepsPerEpoch` steps: about a fifth of an epoch, within [1, 50] batches. */
export function smoothingFor(stepsPerEpoch: number): number {
  return Math.min(50, Math.max(1, stepsPerEpoch / 5));
}

export class EpochMean {
  private epoch = -1;
  private lossSum = 0;
  private correctSum = 0;
  private images = 0;

  /** Adds one step's batch (mean loss, accuracy, images); returns the epoch's means so far. */
  add(epoch: number, loss: number, accuracy: number, images: number): { loss: number; accuracy: number } {
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.lossSum = 0;
      this.correctSum = 0;
      this.images = 0;
    }
    this.lossSum += loss * images;
    this.correctSum += accuracy * images;
    this.images += images;
    return { loss: this.lossSum / this.images, accuracy: this.correctSum / this.images };
  }
}
