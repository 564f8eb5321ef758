import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { GradientStatSchema } from '../../../shared/protocol/inspect';

/**
 * Gradient flow: per conv/Dense layer, the L2 norm of its weight gradients, its
 * weight norm and the update-to-weight ratio ‖Δw‖/‖w‖ of one step. Vanishing gradients on the way
 * to early layers, the motivation of dense connectivity (paper §1), show up as small early norms.
 *
 * Two phases around the optimizer's update:
 *   1. `capture` (the loop's onGradients hook: after backprop, before the update) reduces the
 *      gradients and weights to squared norms on the backend and keeps a handle on the pre-update
 *      weights. `tf.clone` shares data by reference count, and the optimizer replaces a variable's
 *      data with `assign`, so keeping the old values copies nothing.
 *   2. `finish` (once the update is applied) computes ‖w_after − w_before‖ and downloads all three
 *      numbers per layer at once.
 * Norms include weight decay and momentum in Δw: it is the update actually applied.
 * Only layers with a kernel (conv, Dense) are reported; a Dense layer's bias joins its kernel.
 */
export type GradientStat = z.infer<typeof GradientStatSchema>;

/** The loop's trainable variables: stable names such as `conv2_block1_1_conv/kernel`. */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

interface LayerGroup {
  layer: string;
  names: string[];
}

/** Groups variable names by layer (the part before the last `/`), keeping layers that have a kernel. */
export function kernelLayers(names: readonly string[]): LayerGroup[] {
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const cut = name.lastIndexOf('/');
    const layer = cut > 0 ? name.slice(0, cut) : name;
    groups.set(layer, [...(groups.get(layer) ?? []), name]);
  }
  return [...groups].filter(([, vs]) => vs.some((v) => v.endsWith('/kernel'))).map(([layer, vs]) => ({ layer, names: vs }));
}

const sumSquares = (ts: tf.Tensor[]) => tf.addN(ts.map((t) => tf.sum(tf.square(t))));

export class PendingGradients {
  constructor(
    readonly step: number,
    private readonly groups: LayerGroup[],
    /** [gradNorm², weightNorm²] per layer, flattened. */
    private readonly norms: tf.Tensor1D,
    private readonly before: Map<string, tf.Tensor>,
  ) {}

  /** Call after the update: the stats of the captured step. Disposes what `capture` kept. */
  finish(variables: readonly NamedVariable[]): GradientStat[] {
    if (this.groups.length === 0) {
      this.dispose();
      return [];
    }
    const current = new Map(variables.map((v) => [v.name, v.variable as tf.Tensor]));
    let data: Float32Array;
    try {
      const packed = tf.tidy(() =>
        tf.concat([
          this.norms,
          tf.stack(this.groups.map((g) => sumSquares(g.names.map((n) => tf.sub(current.get(n)!, this.before.get(n)!))))),
        ]),
      );
      data = packed.dataSync() as Float32Array;
      packed.dispose();
    } finally {
      this.dispose();
    }
    const n = this.groups.length;
    return this.groups.map((g, i) => {
      const gradNorm = Math.sqrt(data[2 * i]);
      const weightNorm = Math.sqrt(data[2 * i + 1]);
      const delta = Math.sqrt(data[2 * n + i]);
      return { layer: g.layer, gradNorm, weightNorm, updateRatio: weightNorm > 0 ? delta / weightNorm : 0 };
    });
  }

  dispose(): void {
    this.norms.dispose();
    for (const t of this.before.values()) t.dispose();
    this.before.clear();
  }
}

/**
 * Phase 1. `grads` and `variables` as the loop's onGradients hook gives them (keyed by the same
 * stable names). Safe to call inside the loop's tf.tidy: what it keeps is tf.keep'ed.
 */
export function captureGradients(step: number, grads: tf.NamedTensorMap, variables: readonly NamedVariable[]): PendingGradients {
  const groups = kernelLayers(variables.map((v) => v.name)).filter((g) => g.names.every((n) => grads[n]));
  const byName = new Map(variables.map((v) => [v.name, v.variable as tf.Tensor]));
  const norms = tf.keep(
    tf.tidy(() =>
      groups.length === 0 ? tf.zeros([0]) as tf.Tensor1D : tf.stack(groups.flatMap((g) => [sumSquares(g.names.map((n) => grads[n])), sumSquares(g.names.map((n) => byName.get(n)!))])) as tf.Tensor1D,
    ),
  );
  const before = new Map<string, tf.Tensor>();
  for (const g of groups) for (const n of g.names) before.set(n, tf.keep(tf.clone(byName.get(n)!)));
  return new PendingGradients(step, groups, norms, before);
}

/**
 * Gradient flow of a saved model on one batch, for a run that is not training (a checkpoint): the
 * gradients of the plain cross-entropy on `x`, `y`, per layer, with no update applied, so
 * `updateRatio` is null. The forward pass runs in inference mode (batch norm on its moving
 * statistics, no dropout): deterministic, and it leaves the moving statistics as they were.
 */
export async function gradientsAt(model: tf.LayersModel, x: tf.Tensor4D, y: Int32Array, classes: number, variables: readonly NamedVariable[]): Promise<GradientStat[]> {
  const groups = kernelLayers(variables.map((v) => v.name));
  if (groups.length === 0) return [];
  const byName = new Map(variables.map((v) => [v.name, v.variable]));
  const packed = tf.tidy(() => {
    const labels = tf.oneHot(tf.tensor1d(y, 'int32'), classes);
    const { grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: false }) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(labels, logits, undefined, 0, tf.Reduction.MEAN) as tf.Scalar;
    }, variables.map((v) => v.variable));
    const byVariable = new Map(variables.map((v) => [v.name, grads[v.variable.name]]));
    return tf.stack(groups.flatMap((g) => [sumSquares(g.names.map((n) => byVariable.get(n)!)), sumSquares(g.names.map((n) => byName.get(n)!))]));
  });
  let data: Float32Array;
  try {
    data = (await packed.data()) as Float32Array;
  } finally {
    packed.dispose();
  }
  return groups.map((g, i) => ({ layer: g.layer, gradNorm: Math.sqrt(data[2 * i]), weightNorm: Math.sqrt(data[2 * i + 1]), updateRatio: null }));
}
