import * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { connectivityGraph } from '../../../shared/architecture';
import type { TrainerEvent, TrainerEventOf } from '../../../shared/protocol';
import type { LoopHooks } from '../train/loop';
import type { DataSplit } from '../data/types';
import { trainVariables } from '../train/model-weights';
import { ablationOverview, type AblationProgress } from './ablation-overview';
import { encodeActivationMaps, rawActivationMaps } from './activations';
import { contributionMatrices, kernelFromModel, type ContributionBlockSpec } from './contributions';
import { predictAll } from '../train/evaluate';
import { evaluationMetrics, type EvalBatches } from './evaluation';
import { FeatureProbe } from './feature-probe';
import { captureGradients, gradientsAt, type PendingGradients } from './gradients';
import { mistakeDetails } from './mistakes';
import { ablationTargets, contributionSpecs, probePoints, type ProbePoint } from './probe-points';

/**
 * One run's inspection: turns probes into protocol events (shared/protocol/inspect.ts) and plugs
 * into the training loop's hooks (main/engine/train/loop.ts). Every event goes to `emit`, which in
 * the trainer is the same sink as step and epoch events: appended to metrics.jsonl, then sent to
 * the host (which throttles for the UI, main/host/throttle.ts).
 *
 * Results are keyed by connectivity-graph node id (`conv2_block3`), except gradient stats, which
 * are per weight layer (`conv2_block3_1_conv`); a node's `layers` lists its weight layers.
 */
export type { InspectWhat } from '../../../shared/protocol';

/** Cancellation and progress of a long on-demand computation (ablation, evaluation). */
export interface WorkOptions {
  signal?: AbortSignal;
  /** `done` of `total` units, with a sentence. */
  onProgress?: (done: number, total: number, message: string) => void;
}

export interface InspectorOptions {
  runId: string;
  model: tf.LayersModel;
  modelConfig: DenseNetConfig;
  /** Class names, for labels in activation and evaluation events. */
  classes: string[];
  /** Validation batches in a fixed order, preprocessed as in training; null when there is no split. */
  val: EvalBatches | null;
  /** The split `val` walks: its size for progress, its images and names for misclassified samples. */
  valSplit?: DataSplit | null;
  /**
   * Set when the model holds a saved checkpoint's weights and is not training (a finished run opened
   * for inspection): results name it, and gradients are computed on request instead of captured.
   */
  checkpoint?: string;
  emit(event: TrainerEvent): void;
  /** Samples in the fixed probe batch for layer stats. Default 32. */
  probeSize?: number;
  /** Feature maps per layer in activation events. Default 8. */
  topN?: number;
  now?: () => number;
}

export class Inspector {
  readonly points: ProbePoint[];
  private readonly probe: FeatureProbe;
  private readonly specs: ContributionBlockSpec[];
  private readonly targets: { node: string; conv: string }[];
  private readonly now: () => number;
  private probeBatch: { x: tf.Tensor4D; y: Int32Array } | null = null;
  private pending: { grads: PendingGradients; variables: { name: string; variable: tf.Variable }[] } | null = null;
  private lastGradients: TrainerEventOf<'gradients'> | null = null;
  private position = { step: 0, epoch: 0 };
  private warnedNoVal = false;

  constructor(private readonly options: InspectorOptions) {
    const graph = connectivityGraph(options.modelConfig);
    this.points = probePoints(graph);
    this.probe = new FeatureProbe(options.model, this.points.map((p) => p.layer));
    this.specs = contributionSpecs(graph);
    this.targets = ablationTargets(graph);
    this.now = options.now ?? (() => Date.now());
  }

  /** Where the run is, for on-demand events: the latest step/epoch seen, or a checkpoint's. */
  setPosition(step: number, epoch: number): void {
    this.position = { step, epoch };
  }

  /**
   * The loop's hooks with inspection added: gradients are captured before the update every
   * `gradientsEvery` steps and finished when the step's event shows the update was applied; layer
   * stats run at every probe; contributions at every epoch end. The given hooks still run.
   */
  wrapHooks(hooks: LoopHooks): LoopHooks {
    return {
      ...hooks,
      onGradients: (step, grads, variables, info) => {
        this.pending?.grads.dispose();
        this.pending = { grads: captureGradients(step, grads, variables), variables };
        this.position = { step, epoch: info.epoch };
        hooks.onGradients?.(step, grads, variables, info);
      },
      onEvent: (event) => {
        hooks.onEvent?.(event);
        if (event.type === 'step') {
          this.position = { step: event.step, epoch: event.epoch };
          // The loop emits a step's event after applying its update: Δw is now measurable.
          if (this.pending && this.pending.grads.step + 1 === event.step) this.emitGradients(event.step, event.epoch);
        }
      },
      onProbe: async (ctx) => {
        this.position = { step: ctx.step, epoch: ctx.epoch };
        const stats = await this.stats(ctx.epochEnd);
        if (stats) this.options.emit(stats);
        if (ctx.epochEnd) this.options.emit(await this.contributions());
        await hooks.onProbe?.(ctx);
      },
    };
  }

  private emitGradients(step: number, epoch: number): void {
    const { grads, variables } = this.pending!;
    this.pending = null;
    this.lastGradients = { type: 'gradients', runId: this.options.runId, step, epoch, layers: grads.finish(variables), time: this.now() };
    this.options.emit(this.lastGradients);
  }

  /** Layer stats on the fixed probe batch; null (after one warning) when the run has no validation split. */
  async stats(epochEnd = false): Promise<TrainerEventOf<'layerStats'> | null> {
    const batch = await this.loadProbeBatch();
    if (!batch) return null;
    const stats = await this.probe.stats(batch.x);
    const byLayer = new Map(this.points.map((p) => [p.layer, p.node]));
    return {
      type: 'layerStats', runId: this.options.runId, ...this.position, epochEnd,
      layers: stats.map((s) => ({ ...s, layer: byLayer.get(s.layer) ?? s.layer })),
      ...this.source(),
      time: this.now(),
    };
  }

  async contributions(): Promise<TrainerEventOf<'contributions'>> {
    const blocks = await contributionMatrices(this.specs, kernelFromModel(this.options.model));
    return { type: 'contributions', runId: this.options.runId, ...this.position, blocks, time: this.now() };
  }

  /** `{checkpoint}` for results computed from a saved checkpoint, else nothing. */
  private source(): { checkpoint?: string } {
    return this.options.checkpoint ? { checkpoint: this.options.checkpoint } : {};
  }

  /** Activation maps of validation sample `sample`. */
  async activations(sample: number): Promise<TrainerEventOf<'activations'>> {
    const val = this.requireVal('Activation maps');
    let seen = 0;
    for await (const b of val()) {
      if (sample < seen + b.n) {
        const [h, w, c] = this.options.modelConfig.inputShape;
        const per = h * w * c;
        const i = sample - seen;
        const image = tf.tensor3d(b.x.subarray(i * per, (i + 1) * per), [h, w, c]);
        try {
          return await this.activationsOfImage(image, sample, this.options.classes[b.y[i]] ?? String(b.y[i]));
        } finally {
          image.dispose();
        }
      }
      seen += b.n;
    }
    throw new RangeError(`Sample ${sample} is outside the validation split, which has ${seen} samples (0..${seen - 1}).`);
  }

  /** Activation maps of any preprocessed image (e.g. a file given to the CLI); `sample` and `label` are echoed. */
  async activationsOfImage(image: tf.Tensor3D, sample = 0, label?: string): Promise<TrainerEventOf<'activations'>> {
    const layers = await encodeActivationMaps(await rawActivationMaps(this.probe, image, this.options.topN ?? 8));
    const byLayer = new Map(this.points.map((p) => [p.layer, p.node]));
    return {
      type: 'activations', runId: this.options.runId, step: this.position.step, sample,
      ...(label !== undefined ? { label } : {}),
      layers: layers.map((l) => ({ ...l, layer: byLayer.get(l.layer) ?? l.layer })),
      ...this.source(),
      time: this.now(),
    };
  }

  /** Every dense layer's accuracy drop at once (./ablation-overview), keyed by graph node id. */
  async ablation(work: WorkOptions = {}): Promise<TrainerEventOf<'ablation'>> {
    const val = this.requireVal('Layer ablation');
    const started = this.now();
    const byConv = new Map(this.targets.map((t) => [t.conv, t.node]));
    const samples = this.options.valSplit?.size ?? 0;
    const result = await ablationOverview(this.options.model, this.targets.map((t) => t.conv), val(), {
      samples,
      signal: work.signal,
      onProgress: (p: AblationProgress) => work.onProgress?.(p.done, p.total, `Zeroed ${byConv.get(p.layer) ?? p.layer}`),
    });
    return {
      type: 'ablation', runId: this.options.runId, step: this.position.step, baselineAccuracy: result.baselineAccuracy,
      layers: result.layers.map((l) => ({ ...l, layer: byConv.get(l.layer) ?? l.layer })),
      ...this.source(),
      ...(samples ? { samples } : {}),
      seconds: (this.now() - started) / 1000,
      time: this.now(),
    };
  }

  /** Confusion matrix and per-class metrics on the validation split, with thumbnails of the worst mistakes. */
  async evaluation(topMisclassified = 16, work: WorkOptions = {}): Promise<TrainerEventOf<'evaluation'>> {
    const val = this.requireVal('Evaluation');
    const total = this.options.valSplit?.size ?? 0;
    const predictions = await predictAll(this.options.model, val(), {
      signal: work.signal,
      onBatch: (done) => work.onProgress?.(done, total, `Predicted ${done} of ${total || '?'} validation images`),
    });
    const r = evaluationMetrics(predictions, this.options.classes.length, topMisclassified);
    const split = this.options.valSplit;
    const details = split ? await mistakeDetails(split, r.misclassified.map((m) => m.index)) : [];
    const misclassified = r.misclassified.map((m, i) => ({ ...m, ...details[i] }));
    return {
      type: 'evaluation', runId: this.options.runId, step: this.position.step, classes: [...this.options.classes], ...r, misclassified,
      ...this.source(), split: 'validation split', time: this.now(),
    };
  }

  /**
   * Gradient stats on request. While training, gradients exist only inside a step, so this is the
   * last captured step's; before the first capture, and from a checkpoint, they are computed on
   * the probe batch (./gradients `gradientsAt`), with no update ratio. Null only without a
   * validation split (no probe batch).
   */
  async gradients(): Promise<TrainerEventOf<'gradients'> | null> {
    // Before the first capture (a paused run at step 21 with "gradients every 50 steps", or every
    // 0), the live weights get the same on-demand computation as a checkpoint's.
    if (!this.options.checkpoint && this.lastGradients) return this.lastGradients;
    const batch = await this.loadProbeBatch();
    if (!batch) return null;
    const layers = await gradientsAt(this.options.model, batch.x, batch.y, this.options.classes.length, trainVariables(this.options.model));
    return { type: 'gradients', runId: this.options.runId, ...this.position, layers, ...this.source(), time: this.now() };
  }

  dispose(): void {
    this.probeBatch?.x.dispose();
    this.probeBatch = null;
    this.pending?.grads.dispose();
    this.pending = null;
  }

  private requireVal(what: string): EvalBatches {
    if (!this.options.val) throw new RangeError(`${what} needs a validation split; this run has none (set valFraction > 0).`);
    return this.options.val;
  }

  /** The first `probeSize` validation samples, read once and kept: the same batch at every probe. */
  private async loadProbeBatch(): Promise<{ x: tf.Tensor4D; y: Int32Array } | null> {
    if (this.probeBatch) return this.probeBatch;
    if (!this.options.val) {
      if (!this.warnedNoVal) {
        this.warnedNoVal = true;
        this.options.emit({ type: 'log', level: 'warn', message: 'Layer statistics need a validation split for their probe batch; this run has none, so none are computed.', time: this.now() });
      }
      return null;
    }
    const size = this.options.probeSize ?? 32;
    const [h, w, c] = this.options.modelConfig.inputShape;
    const per = h * w * c;
    const chunks: Float32Array[] = [];
    const labels: number[] = [];
    let n = 0;
    for await (const b of this.options.val()) {
      const take = Math.min(b.n, size - n);
      chunks.push(b.x.slice(0, take * per));
      labels.push(...b.y.subarray(0, take));
      n += take;
      if (n >= size) break;
    }
    if (n === 0) return null;
    const x = new Float32Array(n * per);
    let o = 0;
    for (const ch of chunks) {
      x.set(ch, o);
      o += ch.length;
    }
    this.probeBatch = { x: tf.tensor4d(x, [n, h, w, c]), y: Int32Array.from(labels) };
    return this.probeBatch;
  }
}
