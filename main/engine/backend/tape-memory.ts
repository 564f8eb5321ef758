import * as tf from '@tensorflow/tfjs';

/**
 * Frees backward-pass memory as soon as the autodiff tape is done with it.
 *
 * Porting note: tfjs-core's Engine.gradients keeps, until the whole backward pass ends, both every
 * tensor saved for the backward pass and the gradient of every intermediate tensor (tape.ts,
 * backpropagateGradients never disposes a node's dys). Peak memory is therefore all activations plus
 * all their gradients, about twice what PyTorch holds, and a DenseNet-BC-100 at batch 64 outgrows
 * wasm32's 4 GiB heap. PyTorch frees a node's saved tensors and incoming gradients once the node's
 * backward has run; this does the same by wrapping each tape node's gradient function:
 * once the last of the node's input-gradient thunks has run, it disposes
 *   - the node's saved tensors (tfjs would dispose them at the end anyway), and
 *   - the gradients flowing into the node (its dys), unless one was returned as an input gradient,
 *     is a gradient the caller asked for (xs), or existed before this gradients() call (a dy the
 *     caller passed in).
 * Only first-order passes are touched (gradientDepth 0, as when tfjs itself disposes saved tensors);
 * higher-order gradients keep tfjs' behaviour. Disposing a tensor twice is a no-op, so tfjs' own
 * clean-up at the end stays harmless.
 */
interface TapeNode {
  inputs: Record<string, tf.Tensor>;
  saved?: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  addTapeNode: (...args: unknown[]) => void;
  gradients: (f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean) => unknown;
}

let restore: (() => void) | null = null;

export function tapeMemoryReleaseInstalled(): boolean {
  return restore != null;
}

/** Puts tfjs' own Engine.gradients and addTapeNode back (tests compare against them). */
export function uninstallTapeMemoryRelease(): void {
  restore?.();
  restore = null;
}

export function installTapeMemoryRelease(): void {
  if (restore) return;
  const engine = tf.engine() as unknown as EngineInternals;
  const EngineClass = engine.constructor as unknown as { nextTensorId: number };
  // One entry per gradients() call in progress: first tensor id it may free, and the xs' ids.
  const calls: { firstId: number; xs: Set<number> }[] = [];

  const originalGradients = engine.gradients;
  engine.gradients = function (this: EngineInternals, f, xs, dy, allowNoGradients) {
    calls.push({ firstId: EngineClass.nextTensorId, xs: new Set(xs.map((x) => x.id)) });
    try {
      return originalGradients.call(this, f, xs, dy, allowNoGradients);
    } finally {
      calls.pop();
    }
  };

  const originalAddTapeNode = engine.addTapeNode;
  restore = () => {
    engine.gradients = originalGradients;
    engine.addTapeNode = originalAddTapeNode;
  };
  engine.addTapeNode = function (this: EngineInternals, ...args: unknown[]) {
    originalAddTapeNode.apply(this, args);
    const tape = this.state.activeTape;
    const node = tape?.[tape.length - 1];
    const gradient = node?.gradient;
    if (!node || !gradient) return;
    node.gradient = (dys: tf.Tensor[]) => {
      const thunks = gradient(dys);
      const call = calls[calls.length - 1];
      if (!call || this.state.gradientDepth !== 0) return thunks;
      const pending = new Set(Object.keys(node.inputs));
      const returned = new Set<tf.Tensor>();
      const wrapped: Record<string, () => tf.Tensor> = {};
      for (const [name, thunk] of Object.entries(thunks)) {
        wrapped[name] = () => {
          const dx = thunk();
          returned.add(dx);
          pending.delete(name);
          if (pending.size === 0) {
            for (const t of node.saved ?? []) t.dispose();
            for (const d of dys) {
              if (d && !returned.has(d) && !d.kept && d.id >= call.firstId && !call.xs.has(d.id)) d.dispose();
            }
          }
          return dx;
        };
      }
      return wrapped;
    };
  };
}

/**
 * After a gradients() call that threw (say, the heap ran out in the middle of the forward pass),
 * the tape it recorded stays behind with every tensor it saved, kept: about a whole step's
 * activations. Disposes them, so a failed step gives its memory back.
 */
export function releaseAbandonedTape(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  const tape = engine.state.activeTape;
  if (!tape || engine.state.gradientDepth !== 0) return;
  for (const node of tape) for (const t of node.saved ?? []) t.dispose();
  engine.state.activeTape = null;
}
