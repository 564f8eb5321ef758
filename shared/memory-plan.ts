import { stepMemory } from './architecture/memory';
import type { DenseNetConfig } from './config';
import { WorkbenchError } from './errors';
import type { TrainSettings } from './training';

type OptimizerName = TrainSettings['optimizer'];

/** wasm32's largest heap as tfjs-backend-wasm allows it: 4 GiB less one 64 KiB page. */
export const WASM_HEAP_MAX = 4294901760;

/**
 * Decides, before the first step, how a training step fits in the wasm heap (wasm32: 4 GiB): the
 * plain dense layers, the memory-efficient ones (recomputing concatenations and BN-ReLUs in the
 * backward pass), or, as the last resort, the memory-efficient ones over micro-batches. The
 * estimates come from the architecture (./architecture/memory.ts), so a step that cannot fit is
 * refused with the numbers instead of running into the heap's end. Pure: the engine plans with it
 * before the first step, and the New-run form shows the same plan live.
 */
export type MemoryEfficientSetting = TrainSettings['memoryEfficient'];

export interface MemoryPlanRequest {
  config: DenseNetConfig;
  batch: number;
  optimizer: OptimizerName;
  /** The heap's limit; null where the backend has none of its own (cpu, tensorflow). */
  heapLimitBytes: number | null;
  /** What the heap already holds before the model (the backend's own start-up), default 0. */
  heapBaseBytes?: number;
  memoryEfficient: MemoryEfficientSetting;
  /** Images a forward/backward pass at most; 0 = only when nothing else fits. */
  microBatch: number;
}

export interface MemoryPlan {
  memoryEfficient: boolean;
  /** Images per forward/backward pass: the batch, or less when micro-batching. */
  microBatch: number;
  /** Estimated heap at the step's peak with this plan. */
  peakBytes: number;
  /** Estimated peak of the plain path at the full batch. */
  plainPeakBytes: number;
  heapLimitBytes: number | null;
  /** Sentences for the run's log and the backend report, saying what was chosen and why. */
  notes: string[];
}

/** The estimates run a little under what the backend allocates (its own scratch and temporaries). */
const PER_IMAGE_MARGIN = { plain: 1.03, efficient: 1.2 };
/** XNNPACK keeps a packed copy of every filter; the rest of its needs are the heap guard's headroom. */
const PACKED_WEIGHT_COPIES = 1;
/** Of the limit, what allocations can really use (allocator bookkeeping and fragmentation). */
const USABLE = 0.9;
const HEADROOM = (limit: number) => Math.min(128 * 2 ** 20, Math.floor(limit / 8));

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

export class ModelTooLargeError extends WorkbenchError {}

function modelLabel(config: DenseNetConfig): string {
  return `${config.variant === 'custom' ? 'the custom DenseNet' : config.variant} at ${config.inputShape.join('×')}`;
}

export function stepEstimate(config: DenseNetConfig, optimizer: OptimizerName) {
  const mem = stepMemory(config);
  const slots = optimizer === 'sgd' ? 1 : 2;
  // Weights, their gradients, the optimizer's slots, XNNPACK's packed filters.
  const fixed = 4 * mem.weightFloats * (2 + slots + PACKED_WEIGHT_COPIES);
  const perImage = { plain: mem.plainPerImage * PER_IMAGE_MARGIN.plain, efficient: mem.efficientPerImage * PER_IMAGE_MARGIN.efficient };
  return {
    fixed,
    perImage,
    peak: (efficient: boolean, images: number, micro = false) => fixed + (micro ? 4 * mem.weightFloats : 0) + images * (efficient ? perImage.efficient : perImage.plain),
  };
}

/**
 * The heap a step may use: the limit less what start-up took, the headroom kept for XNNPACK, and
 * the allocator's slack.
 */
export function usableHeap(limit: number, base = 0): number {
  return Math.floor((limit - base - HEADROOM(limit)) * USABLE);
}

/** The largest number of images per pass that fits, or 0. */
export function largestBatch(config: DenseNetConfig, optimizer: OptimizerName, limit: number, efficient: boolean, base = 0): number {
  const e = stepEstimate(config, optimizer);
  const room = usableHeap(limit, base) - e.peak(efficient, 0);
  return Math.max(0, Math.floor(room / (efficient ? e.perImage.efficient : e.perImage.plain)));
}

export function planTrainingMemory(r: MemoryPlanRequest): MemoryPlan {
  const e = stepEstimate(r.config, r.optimizer);
  const plainPeak = e.peak(false, r.batch);
  const base = { plainPeakBytes: plainPeak, heapLimitBytes: r.heapLimitBytes };
  const explicitMicro = r.microBatch > 0 && r.microBatch < r.batch ? r.microBatch : 0;
  if (r.heapLimitBytes === null) {
    const efficient = r.memoryEfficient === 'on';
    const micro = explicitMicro || r.batch;
    return { ...base, memoryEfficient: efficient, microBatch: micro, peakBytes: e.peak(efficient, micro, micro < r.batch), notes: [] };
  }
  const limit = r.heapLimitBytes;
  const base0 = r.heapBaseBytes ?? 0;
  const usable = usableHeap(limit, base0);
  const fits = (efficient: boolean, images: number) => e.peak(efficient, images, images < r.batch) <= usable;
  const label = modelLabel(r.config);
  const notes: string[] = [];
  const choices: boolean[] = r.memoryEfficient === 'on' ? [true] : r.memoryEfficient === 'off' ? [false] : [false, true];
  for (const efficient of choices) {
    const images = explicitMicro || r.batch;
    if (!fits(efficient, images)) continue;
    if (efficient && r.memoryEfficient === 'auto') {
      notes.push(`Memory-efficient dense layers are on: a plain step of ${label} with batch ${r.batch} needs about ${gib(plainPeak)} of wasm heap, more than the ${gib(usable)} a step can use of its ${gib(limit)}; recomputing each layer's concatenation and BN-ReLU in the backward pass brings it to about ${gib(e.peak(true, images))}.`);
    }
    if (explicitMicro) notes.push(`Micro-batching is on (asked for): ${micronote(explicitMicro, r.batch)}`);
    return { ...base, memoryEfficient: efficient, microBatch: images, peakBytes: e.peak(efficient, images, images < r.batch), notes };
  }
  // Micro-batching, the last resort: the most images a pass that fit, memory-efficient unless 'off'.
  const efficient = r.memoryEfficient !== 'off';
  const most = largestBatch(r.config, r.optimizer, limit, efficient, base0);
  const micro = explicitMicro ? 0 : Math.min(most, r.batch - 1);
  if (micro >= 1 && r.microBatch === 0) {
    notes.push(`Micro-batching is on: a step of ${label} with batch ${r.batch} does not fit the ${gib(limit)} wasm heap ${efficient ? 'even with memory-efficient dense layers' : 'with plain dense layers (memory-efficient ones are off)'} (about ${gib(e.peak(efficient, r.batch))} needed), so ` +
      `${micronote(micro, r.batch)}`);
    return { ...base, memoryEfficient: efficient, microBatch: micro, peakBytes: e.peak(efficient, micro, true), notes };
  }
  const needed = e.peak(efficient, explicitMicro || r.batch, explicitMicro > 0);
  const largest = largestBatch(r.config, r.optimizer, limit, true, base0);
  const advice = largest >= r.batch && !efficient
    ? `With memory-efficient dense layers (memoryEfficient auto or on), batch ${r.batch} fits (up to ${largest}).`
    : largest >= 1
      ? `The largest batch that fits is ${largest} with memory-efficient dense layers; or keep batch ${r.batch} and pass --micro-batch ${Math.min(largest, r.batch)}.`
      : 'Not even one image fits: use a smaller input size or a smaller variant, or the tensorflow backend (@tensorflow/tfjs-node), which has no such limit.';
  throw new ModelTooLargeError(
    `A training step of ${label} with batch ${r.batch}${explicitMicro ? ` in micro-batches of ${explicitMicro}` : ''}${efficient ? '' : ' and plain dense layers'} needs about ${gib(needed)} of wasm heap; the wasm backend has ${gib(limit)} (a step can use about ${gib(usable)}). ${advice}`,
  );
}

function micronote(micro: number, batch: number): string {
  return `each batch of ${batch} is split into micro-batches of at most ${micro} images whose gradients are summed before one update. ` +
    'Batch normalization then normalizes each micro-batch with its own statistics (as data-parallel training without synchronized BN does).';
}

/**
 * The error for a step that ran out of heap anyway (the estimate was short, or the heap fragmented):
 * the heap guard's numbers, with the model, the input, the batch and the largest batch that fits.
 */
export function explainHeapExhausted(err: Error, r: MemoryPlanRequest, plan: MemoryPlan): ModelTooLargeError {
  const label = modelLabel(r.config);
  const limit = r.heapLimitBytes ?? 2 ** 32;
  const efficient = largestBatch(r.config, r.optimizer, limit, true, r.heapBaseBytes ?? 0);
  const shrink = Math.max(1, Math.floor(Math.min(efficient, plan.microBatch) * 0.75));
  return new ModelTooLargeError(
    `Training ${label} with batch ${r.batch}${plan.microBatch < r.batch ? ` (micro-batches of ${plan.microBatch})` : ''}${plan.memoryEfficient ? ' and memory-efficient dense layers' : ''} ran out of wasm heap: ${err.message} ` +
      `The step was estimated at ${gib(plan.peakBytes)}; the largest batch estimated to fit is ${efficient} (memory-efficient). ` +
      `Try batch ${shrink}, or --micro-batch ${shrink}. The run keeps its last checkpoint.`,
    { cause: err },
  );
}
