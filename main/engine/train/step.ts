import * as tf from '@tensorflow/tfjs';
import { releaseAbandonedTape } from '../backend/tape-memory';
import type { Batch } from '../data/batches';
import { correctCount, crossEntropy } from './loss';
import type { Optimizer, TrainVariable } from './optimizers';
import { SeedPurpose, streamSeed, withSeededRandom } from './seeded';

/**
 * One optimisation step of the training loop: forward in training mode, softmax cross-entropy, the
 * backward pass and the optimizer update. The benchmark runs this same step (through the loop).
 *
 * Micro-batching: with `microBatch` < the batch size, the batch is cut into micro-batches whose
 * gradients are summed, each weighted by its share of the batch, before one update: the update
 * equals the full batch's, except that batch normalization sees each micro-batch's own statistics
 * (as data-parallel training without synchronised BN does) and updates its moving averages once a
 * micro-batch.
 */
export interface StepModel {
  model: tf.LayersModel;
  variables: TrainVariable[];
  optimizer: Optimizer;
  classes: number;
  labelSmoothing: number;
  /** Run seed: dropout masks are a function of (seed, step). */
  seed: number;
  /** Logits in training mode; by default `model.apply(x, { training: true })`. */
  forward?: (x: tf.Tensor) => tf.Tensor;
  /** Images a forward/backward pass at most (0 or >= the batch: the whole batch at once). */
  microBatch?: number;
}

export interface StepOutcome {
  loss: number;
  correct: number;
}

/**
 * Called with the step's gradients (keyed by TrainVariable name) before the update, when asked for.
 * The tensors are disposed when it returns.
 */
export type GradientsHook = (grads: tf.NamedTensorMap) => void;

export function trainStep(m: StepModel, batch: Batch, step: number, lr: number, onGradients?: GradientsHook): StepOutcome {
  try {
    return runStep(m, batch, step, lr, onGradients);
  } catch (err) {
    releaseAbandonedTape();
    throw err;
  }
}

function runStep(m: StepModel, batch: Batch, step: number, lr: number, onGradients?: GradientsHook): StepOutcome {
  const inputShape = m.model.inputs[0].shape.slice(1) as number[];
  const byTfName = new Map(m.variables.map((v) => [v.variable.name, v.name]));
  const forward = m.forward ?? ((x: tf.Tensor) => m.model.apply(x, { training: true }) as tf.Tensor);
  // Batch-norm moving statistics change during the forward pass itself, before the loss is known.
  const statistics = m.model.nonTrainableWeights;
  const size = m.microBatch && m.microBatch > 0 && m.microBatch < batch.n ? m.microBatch : batch.n;
  const pixels = inputShape[0] * inputShape[1] * inputShape[2];
  return tf.tidy(() => {
    // clone() shares the data, and the forward pass assigns new data to the variables, so these keep
    // the pre-step statistics at no copy cost, to put back if the step diverges.
    const before = statistics.map((w) => w.read().clone());
    let loss = 0;
    let correct = 0;
    let grads: tf.NamedTensorMap = {};
    // Dropout masks are a function of (seed, step): reproducible, and identical after a resume.
    withSeededRandom(streamSeed(m.seed, SeedPurpose.dropout, step), () => {
      for (let start = 0; start < batch.n; start += size) {
        const n = Math.min(size, batch.n - start);
        const weight = n / batch.n;
        const part = tf.tidy(() => {
          const x = tf.tensor4d(batch.x.subarray(start * pixels, (start + n) * pixels), [n, inputShape[0], inputShape[1], inputShape[2]]);
          const y = tf.tensor1d(batch.y.subarray(start, start + n), 'int32');
          let correctT: tf.Scalar | null = null;
          let vg;
          try {
            vg = tf.variableGrads(() => {
              // training: true makes Dropout drop and BatchNormalization use batch statistics and
              // update its moving mean/variance (tfjs-layers 4.22 does so imperatively in call()).
              const logits = forward(x);
              correctT = tf.keep(correctCount(logits, y));
              const l = crossEntropy(logits, y, m.classes, m.labelSmoothing);
              return weight === 1 ? l : tf.mul(l, weight);
            }, m.variables.map((v) => v.variable));
          } catch (err) {
            (correctT as tf.Scalar | null)?.dispose();
            throw err;
          }
          const c = (correctT as tf.Scalar | null)?.dataSync()[0] ?? 0;
          (correctT as tf.Scalar | null)?.dispose();
          return { value: vg.value, g: vg.grads, c };
        });
        loss += part.value.dataSync()[0];
        correct += part.c;
        part.value.dispose();
        if (start === 0) grads = part.g;
        else {
          for (const [name, g] of Object.entries(part.g)) {
            const sum = tf.add(grads[name], g);
            tf.dispose([grads[name], g]);
            grads[name] = sum;
          }
        }
        // A diverged micro-batch spoils the step; stop early instead of finishing the batch.
        if (!Number.isFinite(loss)) break;
      }
    });
    // Check before updating, so a diverged step never reaches the weights.
    if (!Number.isFinite(loss)) {
      statistics.forEach((w, i) => w.write(before[i]));
      return { loss, correct: 0 };
    }
    const named: tf.NamedTensorMap = {};
    for (const [tfName, g] of Object.entries(grads)) named[byTfName.get(tfName) ?? tfName] = g;
    onGradients?.(named);
    m.optimizer.apply(named, lr);
    return { loss, correct };
  });
}
