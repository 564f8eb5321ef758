import * as tf from '@tensorflow/tfjs';
import type { AblationResult } from './ablation';
import type { Batch } from '../data/batches';
import { LayerGraph } from './layer-graph';

/**
 * The ablation overview: every dense layer's accuracy drop at once, in one pass over the split.
 *
 * For each chunk of samples, one intact inference forward pass keeps the few tensors the reruns
 * need (each zeroed layer's "frontier": in a DenseNet, the concatenation its layer reads); then,
 * per zeroed layer, only the layers downstream of it run again, with its output replaced by zeros.
 * Nothing upstream of a layer is computed twice and each batch is read and normalized once, where
 * the plain method (`ablateLayers`) reads the split and runs the whole network L + 1 times. The
 * model's weights are never written, so it is safe on the live model between training steps.
 * Correct counts stay on the backend and come down once per chunk.
 *
 * Zeroing the conv's output equals zeroing its kernel (it is bias-free), which is what the plain
 * method does: test/unit/engine/inspect/ablation-overview.test.ts checks the two agree.
 */
export class InspectionCancelled extends Error {
  constructor(what = 'The inspection') {
    super(`${what} was cancelled.`);
    this.name = 'InspectionCancelled';
  }
}

export interface AblationProgress {
  /** Sample-passes done and in all (samples × (1 + layers)): a fraction for a progress bar. */
  done: number;
  total: number;
  /** The layer just ablated on the current chunk. */
  layer: string;
}

export interface AblationOverviewOptions {
  /** Samples in the split, for progress (the batches are walked once). */
  samples: number;
  signal?: AbortSignal;
  onProgress?: (p: AblationProgress) => void;
  /**
   * Bytes of activations to hold for one chunk; the chunk size follows from it. Default 256 MiB,
   * which keeps DenseNet-121 at 224×224 to a few samples a chunk and tiny nets to whole batches.
   */
  budgetBytes?: number;
}

/** Samples per chunk that keep the frontier tensors plus one forward pass within `budgetBytes`. */
export function ablationChunkSize(graph: LayerGraph, frontier: ReadonlySet<string>, budgetBytes: number): number {
  const size = (n: string) => graph.sampleShape(n).reduce((a, b) => a * b, 1);
  let kept = 0;
  for (const f of frontier) kept += size(f);
  // A forward pass frees as it goes, but a DenseNet keeps its running concatenation: count every
  // output once as a safe upper bound.
  let pass = 0;
  for (const n of graph.order) pass += size(n);
  const perSample = 4 * (kept + pass);
  return Math.max(1, Math.min(512, Math.floor(budgetBytes / perSample)));
}

/** Yields to the event loop, so a cancel message can arrive between reruns. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function ablationOverview(
  model: tf.LayersModel,
  targets: readonly string[],
  batches: AsyncIterable<Batch>,
  options: AblationOverviewOptions,
): Promise<AblationResult> {
  const graph = new LayerGraph(model);
  for (const t of targets) {
    if (!graph.has(t)) throw new RangeError(`The model ${model.name} has no layer named ${t} to ablate.`);
  }
  const reruns = targets.map((t) => {
    const run = graph.downstream(t);
    const inRun = new Set(run);
    const frontier = new Set<string>();
    for (const n of run) for (const i of graph.inputs(n)) if (!inRun.has(i) && i !== t) frontier.add(i);
    if (!inRun.has(graph.output)) throw new RangeError(`Layer ${t} does not reach the model's output; zeroing it changes nothing.`);
    return { target: t, run, frontier };
  });
  const frontier = new Set(reruns.flatMap((r) => [...r.frontier]));
  const chunk = ablationChunkSize(graph, frontier, options.budgetBytes ?? 256 * 1024 ** 2);
  const shape = model.inputs[0].shape.slice(1) as number[];
  const per = shape.reduce((a, b) => a * b, 1);
  const total = options.samples * (1 + targets.length);
  const correct = new Float64Array(1 + targets.length);
  let seen = 0;
  let done = 0;
  const check = () => {
    if (options.signal?.aborted) throw new InspectionCancelled('The ablation');
  };

  for await (const batch of batches) {
    for (let start = 0; start < batch.n; start += chunk) {
      check();
      const n = Math.min(chunk, batch.n - start);
      const x = tf.tensor4d(batch.x.subarray(start * per, (start + n) * per), [n, shape[0], shape[1], shape[2]]);
      const y = tf.tensor1d(batch.y.subarray(start, start + n), 'int32');
      const counts: tf.Tensor[] = [];
      let cached: Map<string, tf.Tensor> | null = null;
      const countOf = (logits: tf.Tensor) => tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32')));
      try {
        const values = new Map([[graph.input, x as tf.Tensor]]);
        cached = graph.run(graph.order, values, frontier, graph.output);
        const logits = cached.get(graph.output)!;
        counts.push(countOf(logits));
        if (!frontier.has(graph.output)) {
          logits.dispose();
          cached.delete(graph.output);
        }
        done += n;
        for (const r of reruns) {
          check();
          const zeros = tf.zeros([n, ...graph.sampleShape(r.target)]);
          const inputs = new Map<string, tf.Tensor>([[graph.input, x], [r.target, zeros]]);
          for (const f of r.frontier) if (f !== graph.input) inputs.set(f, cached.get(f)!);
          try {
            const out = graph.run(r.run, inputs, new Set(), graph.output);
            const l = out.get(graph.output)!;
            counts.push(countOf(l));
            l.dispose();
          } finally {
            zeros.dispose();
          }
          done += n;
          options.onProgress?.({ done, total, layer: r.target });
          await breathe();
        }
        const packed = tf.stack(counts);
        const data = await packed.data();
        packed.dispose();
        data.forEach((c, i) => (correct[i] += c));
      } finally {
        for (const c of counts) c.dispose();
        if (cached) for (const t of cached.values()) t.dispose();
        x.dispose();
        y.dispose();
      }
      seen += n;
    }
  }
  if (seen === 0) throw new RangeError('Cannot ablate on an empty split: it has 0 samples.');
  const baselineAccuracy = correct[0] / seen;
  return {
    baselineAccuracy,
    layers: targets.map((layer, i) => {
      const accuracy = correct[i + 1] / seen;
      return { layer, accuracy, drop: baselineAccuracy - accuracy };
    }),
  };
}
