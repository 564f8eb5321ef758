import * as tf from '@tensorflow/tfjs';

/**
 * One training step of the benchmark recipe, the paper's (§4.2): softmax cross-entropy on logits,
 * SGD with Nesterov momentum 0.9 and weight decay 1e-4 added to the gradient (as PyTorch's
 * SGD(weight_decay=...) does, so both sides of bench:compare run the same update).
 */
export interface StepRecipe {
  lr: number;
  momentum: number;
  weightDecay: number;
}

export const PAPER_RECIPE: StepRecipe = { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 };

export interface Trainer {
  /** Runs one step and returns the loss (downloaded, so the step has really finished). */
  step(x: tf.Tensor, labels: tf.Tensor): number;
  dispose(): void;
}

export function makeTrainer(model: tf.LayersModel, recipe: StepRecipe = PAPER_RECIPE): Trainer {
  const optimizer = tf.train.momentum(recipe.lr, recipe.momentum, true);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return {
    step(x, labels) {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const logits = model.apply(x, { training: true }) as tf.Tensor;
          return tf.losses.softmaxCrossEntropy(labels, logits);
        }, vars);
        const decayed: tf.NamedTensorMap = {};
        for (const v of vars) decayed[v.name] = recipe.weightDecay > 0 ? tf.add(grads[v.name], tf.mul(v, recipe.weightDecay)) : grads[v.name];
        optimizer.applyGradients(decayed as unknown as tf.NamedTensorMap as Parameters<typeof optimizer.applyGradients>[0]);
        return value;
      });
      const out = loss.dataSync()[0];
      loss.dispose();
      return out;
    },
    dispose() {
      optimizer.dispose();
    },
  };
}
