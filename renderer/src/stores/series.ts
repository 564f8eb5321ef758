import type { HostEvent } from '../../../shared/api';
import type { LayerStat } from '../../../shared/protocol';
import { EpochMean, Smoother, smoothingFor } from './smoothing';

/**
 * Plain, non-reactive containers for everything a run records. They can hold 100k+ points, so they
 * stay out of Vue's deep reactivity (the store wraps them in markRaw and bumps a version counter);
 * charts read them in place and redraw on the counter, so they stay smooth at 100k+ points.
 * Where the run stands is not kept here: that is the run's state (shared/run/state.ts).
 */
export interface Point {
  x: number;
  y: number;
}

type Of<T extends HostEvent['type']> = Extract<HostEvent, { type: T }>;

export interface LayerHistory {
  steps: number[];
  mean: number[];
  std: number[];
  meanAbs: number[];
  zeroFraction: number[];
  latest: LayerStat;
}

export interface GradientHistory {
  steps: number[];
  gradNorm: number[];
  updateRatio: number[];
}

export class RunRecord {
  // Curves, x = global step.
  readonly trainLoss: Point[] = [];
  readonly trainAccuracy: Point[] = [];
  readonly lr: Point[] = [];
  readonly imagesPerSec: Point[] = [];
  /** The step curves smoothed, each batch weighted by its size (./smoothing.ts): what the charts draw boldly. */
  readonly trainLossSmooth: Point[] = [];
  readonly trainAccuracySmooth: Point[] = [];
  readonly imagesPerSecSmooth: Point[] = [];
  /** The epoch in progress at the latest step: its means over the images so far. */
  current: { epoch: number; epochStep: number; stepsPerEpoch: number; loss: number; accuracy: number; imagesPerSec: number } | null = null;
  private smooth: { loss: Smoother; accuracy: Smoother; ips: Smoother } | null = null;
  private readonly epochMean = new EpochMean();
  /** The largest batch seen: a full one, against which a short last batch is weighted. */
  private fullBatch = 1;
  readonly epochLoss: Point[] = [];
  readonly epochAccuracy: Point[] = [];
  readonly valLoss: Point[] = [];
  readonly valAccuracy: Point[] = [];
  readonly epochs: Of<'epoch'>[] = [];
  lastStep: Of<'step'> | null = null;
  readonly layers = new Map<string, LayerHistory>();
  readonly gradients = new Map<string, GradientHistory>();
  readonly contributions: Of<'contributions'>[] = [];
  activations: Of<'activations'> | null = null;
  /** The latest stats and gradients computed on request from a checkpoint: not points of the curves. */
  checkpointStats: Of<'layerStats'> | null = null;
  checkpointGradients: Of<'gradients'> | null = null;
  ablation: Of<'ablation'> | null = null;
  evaluation: Of<'evaluation'> | null = null;
  readonly logs: (Of<'log'> | Of<'error'> | Of<'trainerExit'>)[] = [];

  /** Adds one event; returns false when it says nothing this record keeps. */
  add(e: HostEvent): boolean {
    switch (e.type) {
      case 'step':
        // Live steps arrive coalesced; a replayed run has them all. Keep x increasing for decimation.
        if (this.lastStep && e.step <= this.lastStep.step) return false;
        this.lastStep = e;
        this.trainLoss.push({ x: e.step, y: e.loss });
        this.trainAccuracy.push({ x: e.step, y: e.accuracy });
        this.lr.push({ x: e.step, y: e.lr });
        this.imagesPerSec.push({ x: e.step, y: e.imagesPerSec });
        this.addSmoothed(e);
        return true;
      case 'epoch':
        this.epochs.push(e);
        this.epochLoss.push({ x: e.step, y: e.loss });
        this.epochAccuracy.push({ x: e.step, y: e.accuracy });
        if (e.valLoss !== null) this.valLoss.push({ x: e.step, y: e.valLoss });
        if (e.valAccuracy !== null) this.valAccuracy.push({ x: e.step, y: e.valAccuracy });
        return true;
      case 'layerStats':
        if (e.checkpoint !== undefined) {
          this.checkpointStats = e;
          return true;
        }
        for (const l of e.layers) {
          let h = this.layers.get(l.layer);
          if (!h) {
            h = { steps: [], mean: [], std: [], meanAbs: [], zeroFraction: [], latest: l };
            this.layers.set(l.layer, h);
          }
          h.steps.push(e.step);
          h.mean.push(l.mean);
          h.std.push(l.std);
          h.meanAbs.push(l.meanAbs);
          h.zeroFraction.push(l.zeroFraction);
          h.latest = l;
        }
        return true;
      case 'gradients':
        if (e.checkpoint !== undefined) {
          this.checkpointGradients = e;
          return true;
        }
        for (const g of e.layers) {
          let h = this.gradients.get(g.layer);
          if (!h) {
            h = { steps: [], gradNorm: [], updateRatio: [] };
            this.gradients.set(g.layer, h);
          }
          h.steps.push(e.step);
          h.gradNorm.push(g.gradNorm);
          h.updateRatio.push(g.updateRatio ?? NaN);
        }
        return true;
      case 'contributions':
        this.contributions.push(e);
        return true;
      case 'activations':
        this.activations = e;
        return true;
      case 'ablation':
        this.ablation = e;
        return true;
      case 'evaluation':
        this.evaluation = e;
        return true;
      case 'log':
      case 'error':
      case 'trainerExit':
        this.logs.push(e);
        if (this.logs.length > 500) this.logs.splice(0, this.logs.length - 500);
        return true;
      default:
        return false;
    }
  }

  /** The smoothed step curves and the running epoch means (see ./smoothing.ts). */
  private addSmoothed(e: Of<'step'>): void {
    if (e.images !== undefined) this.fullBatch = Math.max(this.fullBatch, e.images);
    const share = e.images !== undefined ? e.images / this.fullBatch : 1;
    if (!this.smooth) {
      const tau = smoothingFor(e.stepsPerEpoch);
      this.smooth = { loss: new Smoother(tau), accuracy: new Smoother(tau), ips: new Smoother(tau) };
    }
    this.trainLossSmooth.push({ x: e.step, y: this.smooth.loss.add(e.loss, share) });
    this.trainAccuracySmooth.push({ x: e.step, y: this.smooth.accuracy.add(e.accuracy, share) });
    const ips = this.smooth.ips.add(e.imagesPerSec, share);
    this.imagesPerSecSmooth.push({ x: e.step, y: ips });
    // The trainer's own running means when it sends them; else ours, over the steps received.
    const mean = e.epochLoss !== undefined && e.epochAccuracy !== undefined
      ? { loss: e.epochLoss, accuracy: e.epochAccuracy }
      : this.epochMean.add(e.epoch, e.loss, e.accuracy, e.images ?? 1);
    this.current = { epoch: e.epoch, epochStep: e.epochStep, stepsPerEpoch: e.stepsPerEpoch, loss: mean.loss, accuracy: mean.accuracy, imagesPerSec: ips };
  }
}

/** The run id an event belongs to, when it names one. */
export function runIdOf(e: HostEvent): string | undefined {
  return 'runId' in e && typeof e.runId === 'string' ? e.runId : undefined;
}
