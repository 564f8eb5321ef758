import * as tf from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../shared/errors';
import type { TrainSettings } from '../../../shared/training';
import type { NamedArray } from '../runs/checkpoint';

/**
 * SGD (momentum, Nesterov, weight decay), Adam and AdamW over tf.Variables, with state that can be
 * saved and restored exactly.
 *
 * Written here rather than using tf.train.*: tfjs' SGDOptimizer has no momentum, Nesterov or weight
 * decay; its MomentumOptimizer has no weight decay, and its Adam keeps β^t accumulators whose
 * setWeights() round trip is not exact across versions. A resumed run must continue with exactly
 * the momentum the run had (a resume that resets momentum is a known trap: NVIDIA DIGITS had it),
 * so the state is ours, by name.
 *
 * Update rules follow PyTorch's torch.optim (so results are comparable with the paper's recipe in
 * PyTorch), with dampening 0:
 *   SGD:   g ← ∇ + λw;  b ← μb + g;  d ← nesterov ? g + μb : b;  w ← w − η·d
 *   Adam:  g ← ∇ + λw;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
 *          w ← w − η · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)
 *   AdamW: w ← w(1 − ηλ), then Adam with λ = 0 (Loshchilov & Hutter, decoupled weight decay).
 *
 * Weight decay applies to every trainable variable: conv and dense kernels, the dense bias, and the
 * batch-norm γ and β. That is what the paper's Torch code did (fb.resnet.torch's optim.sgd over all
 * parameters) and what PyTorch's default does; Keras applications, by contrast, regularise kernels only.
 */
export type OptimizerName = 'sgd' | 'adam' | 'adamw';

export interface OptimizerSettings {
  name: OptimizerName;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export function optimizerSettingsFrom(settings: TrainSettings): OptimizerSettings {
  return {
    name: settings.optimizer,
    momentum: settings.momentum,
    nesterov: settings.nesterov,
    weightDecay: settings.weightDecay,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  };
}

/** A trainable variable with its stable (checkpoint) name, e.g. `conv1_conv/kernel`. */
export interface TrainVariable {
  name: string;
  variable: tf.Variable;
}

const SLOTS: Record<OptimizerName, string[]> = { sgd: ['momentum'], adam: ['m', 'v'], adamw: ['m', 'v'] };

export class Optimizer {
  /** Steps applied so far (Adam's t). */
  iterations = 0;
  private readonly slots = new Map<string, tf.Variable[]>();

  constructor(readonly settings: OptimizerSettings, private readonly variables: TrainVariable[]) {
    if (settings.nesterov && settings.name === 'sgd' && settings.momentum <= 0) {
      throw new WorkbenchError(`Nesterov momentum needs a momentum > 0; got ${settings.momentum}.`);
    }
    const names = new Set<string>();
    for (const v of variables) {
      if (names.has(v.name)) throw new WorkbenchError(`Two trainable variables are both named ${v.name}.`, { user: false });
      names.add(v.name);
      // tidy frees the zerosLike temporaries; variables survive it.
      this.slots.set(v.name, tf.tidy(() => SLOTS[settings.name].map(() => tf.variable(tf.zerosLike(v.variable), false))));
    }
  }

  get name(): OptimizerName {
    return this.settings.name;
  }

  /** Applies one update with learning rate `lr`. `grads` is keyed by TrainVariable name. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.iterations++;
    const s = this.settings;
    const t = this.iterations;
    tf.tidy(() => {
      for (const v of this.variables) {
        const grad = grads[v.name];
        // A variable outside the loss's graph gets no gradient: it is left alone, as in PyTorch.
        if (!grad) continue;
        const w = v.variable;
        const slots = this.slots.get(v.name)!;
        if (s.name === 'sgd') {
          let g: tf.Tensor = s.weightDecay > 0 ? tf.add(grad, tf.mul(w, s.weightDecay)) : grad;
          if (s.momentum > 0) {
            const buf = tf.add(tf.mul(slots[0], s.momentum), g);
            slots[0].assign(buf);
            g = s.nesterov ? tf.add(g, tf.mul(buf, s.momentum)) : buf;
          }
          w.assign(tf.sub(w, tf.mul(g, lr)));
        } else {
          const decoupled = s.name === 'adamw';
          const g = !decoupled && s.weightDecay > 0 ? tf.add(grad, tf.mul(w, s.weightDecay)) : grad;
          const m = tf.add(tf.mul(slots[0], s.beta1), tf.mul(g, 1 - s.beta1));
          const vv = tf.add(tf.mul(slots[1], s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
          slots[0].assign(m);
          slots[1].assign(vv);
          const mHat = tf.div(m, 1 - s.beta1 ** t);
          const vHat = tf.div(vv, 1 - s.beta2 ** t);
          const base = decoupled && s.weightDecay > 0 ? tf.mul(w, 1 - lr * s.weightDecay) : w;
          w.assign(tf.sub(base, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), s.epsilon)), lr)));
        }
      }
    });
  }

  /** The state as named plain arrays, `<variable>/<slot>`. */
  getState(): { iterations: number; slots: NamedArray[] } {
    const out: NamedArray[] = [];
    const slotNames = SLOTS[this.settings.name];
    for (const v of this.variables) {
      this.slots.get(v.name)!.forEach((slot, i) => {
        out.push({ name: `${v.name}/${slotNames[i]}`, shape: slot.shape.slice(), data: Float32Array.from(slot.dataSync() as Float32Array) });
      });
    }
    return { iterations: this.iterations, slots: out };
  }

  /** Restores a state saved by getState(); every slot must be present with the same shape. */
  setState(state: { iterations: number; slots: NamedArray[] }): void {
    const byName = new Map(state.slots.map((s) => [s.name, s]));
    const slotNames = SLOTS[this.settings.name];
    for (const v of this.variables) {
      this.slots.get(v.name)!.forEach((slot, i) => {
        const name = `${v.name}/${slotNames[i]}`;
        const saved = byName.get(name);
        if (!saved) throw new WorkbenchError(`The saved ${this.settings.name} state has no slot ${name}; it was saved for another model or optimizer.`);
        if (saved.shape.join(',') !== slot.shape.join(',')) {
          throw new WorkbenchError(`The saved slot ${name} has shape [${saved.shape.join(', ')}]; the model needs [${slot.shape.join(', ')}].`);
        }
        tf.tidy(() => slot.assign(tf.tensor(saved.data, slot.shape, 'float32')));
      });
    }
    this.iterations = state.iterations;
  }

  dispose(): void {
    for (const slots of this.slots.values()) for (const s of slots) s.dispose();
    this.slots.clear();
  }
}
