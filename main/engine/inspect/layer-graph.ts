import * as tf from '@tensorflow/tfjs';

/**
 * A functional model's layers as a graph that can be run piece by piece on concrete tensors, in
 * inference mode (batch norm on its moving statistics, dropout the identity), as `predict` runs it.
 *
 * Why: layer ablation asks "what if this layer's output were zero?" once per dense layer. Only the
 * layers downstream of the zeroed one change, so a piecewise run can reuse everything upstream
 * from one intact forward pass instead of running the whole network again for every layer.
 * tfjs-layers cannot build a model whose inputs are intermediate tensors, hence this small
 * executor over the layers' inbound nodes (each layer of a DenseNet is called exactly once).
 */
export class LayerGraph {
  /** Non-input layers in topological order. */
  readonly order: readonly string[];
  readonly input: string;
  readonly output: string;
  private readonly layers = new Map<string, tf.layers.Layer>();
  private readonly inputsOf = new Map<string, string[]>();
  private readonly consumersOf = new Map<string, string[]>();

  constructor(model: tf.LayersModel) {
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new RangeError(`A layer graph needs a model with one input and one output; ${model.name} has ${model.inputs.length} and ${model.outputs.length}.`);
    }
    this.input = model.inputs[0].sourceLayer.name;
    this.output = model.outputs[0].sourceLayer.name;
    for (const layer of model.layers) {
      this.layers.set(layer.name, layer);
      this.consumersOf.set(layer.name, []);
    }
    for (const layer of model.layers) {
      if (layer.name === this.input) continue;
      if (layer.inboundNodes.length !== 1) {
        throw new RangeError(`Layer ${layer.name} is called ${layer.inboundNodes.length} times; the layer graph supports layers called once.`);
      }
      const node = layer.inboundNodes[0];
      if (node.tensorIndices.some((t) => t !== 0) || node.nodeIndices.some((n) => n !== 0)) {
        throw new RangeError(`Layer ${layer.name} reads a second output or call of another layer; the layer graph supports single-output layers called once.`);
      }
      const names = node.inboundLayers.map((l) => l.name);
      this.inputsOf.set(layer.name, names);
      for (const n of names) this.consumersOf.get(n)!.push(layer.name);
    }
    // Depth-first from the output: every layer after all of its inputs.
    const order: string[] = [];
    const seen = new Set<string>([this.input]);
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      for (const i of this.inputsOf.get(name) ?? []) visit(i);
      order.push(name);
    };
    visit(this.output);
    this.order = order;
  }

  has(name: string): boolean {
    return this.layers.has(name);
  }

  inputs(name: string): readonly string[] {
    return this.inputsOf.get(name) ?? [];
  }

  /** Every layer whose output depends on `name`'s (not `name` itself), in topological order. */
  downstream(name: string): string[] {
    if (!this.layers.has(name)) throw new RangeError(`The model has no layer named ${name}.`);
    const hit = new Set<string>();
    const stack = [...this.consumersOf.get(name)!];
    while (stack.length) {
      const n = stack.pop()!;
      if (hit.has(n)) continue;
      hit.add(n);
      stack.push(...this.consumersOf.get(n)!);
    }
    return this.order.filter((n) => hit.has(n));
  }

  /** Output shape of `name` for one sample (no batch axis). */
  sampleShape(name: string): number[] {
    const shape = this.layers.get(name)!.outputShape as (number | null)[];
    return shape.slice(1).map((d) => d ?? 1);
  }

  /**
   * Runs the layers `run` (in topological order) on the tensors in `values`, which must hold every
   * input they read from outside `run`. Each computed tensor is disposed as soon as its last
   * consumer in `run` has read it, except those named in `keep` and `result`; the caller owns
   * those and `values`' own tensors (never disposed here). Returns the tensors of `keep` and `result`.
   */
  run(run: readonly string[], values: ReadonlyMap<string, tf.Tensor>, keep: ReadonlySet<string>, result: string): Map<string, tf.Tensor> {
    const inRun = new Set(run);
    const pending = new Map<string, number>();
    for (const n of run) for (const i of this.inputsOf.get(n) ?? []) if (inRun.has(i)) pending.set(i, (pending.get(i) ?? 0) + 1);
    const made = new Map<string, tf.Tensor>();
    const get = (n: string): tf.Tensor => {
      const t = made.get(n) ?? values.get(n);
      if (!t) throw new RangeError(`Layer ${n} is needed but neither given nor computed.`);
      return t;
    };
    try {
      for (const n of run) {
        const xs = (this.inputsOf.get(n) ?? []).map(get);
        let y = tf.tidy(() => this.layers.get(n)!.apply(xs.length === 1 ? xs[0] : xs, { training: false }) as tf.Tensor);
        // Identity layers (dropout at inference) hand back their input object: own a reference of
        // our own (a clone shares the data), so disposing the input later cannot free the output.
        if (xs.includes(y)) y = y.clone();
        made.set(n, y);
        for (const i of this.inputsOf.get(n) ?? []) {
          if (!inRun.has(i)) continue;
          const left = pending.get(i)! - 1;
          pending.set(i, left);
          if (left === 0 && !keep.has(i) && i !== result) {
            made.get(i)!.dispose();
            made.delete(i);
          }
        }
      }
    } catch (err) {
      for (const t of made.values()) t.dispose();
      throw err;
    }
    const out = new Map<string, tf.Tensor>();
    for (const [n, t] of made) {
      if (keep.has(n) || n === result) out.set(n, t);
      else t.dispose();
    }
    return out;
  }
}
