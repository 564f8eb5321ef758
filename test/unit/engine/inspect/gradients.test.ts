import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { captureGradients, kernelLayers, type NamedVariable } from '../../../../main/engine/inspect/gradients';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { GradientStatSchema } from '../../../../shared/protocol/inspect';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('gradient flow', () => {
  it('groups variables by layer and keeps layers with a kernel', () => {
    expect(kernelLayers(['a_conv/kernel', 'a_bn/gamma', 'a_bn/beta', 'predictions/kernel', 'predictions/bias'])).toEqual([
      { layer: 'a_conv', names: ['a_conv/kernel'] },
      { layer: 'predictions', names: ['predictions/kernel', 'predictions/bias'] },
    ]);
  });

  it('reports ‖g‖, ‖w‖ and ‖Δw‖/‖w‖ of the step, equal to a direct computation, without leaking', async () => {
    const model = buildDenseNet({
      variant: 'tiny', blocks: [2], growthRate: 4, bottleneck: false, compression: 1, initFeatures: 4,
      stem: 'cifar', dropRate: 0, inputShape: [6, 6, 1], classes: 2,
    });
    const variables: NamedVariable[] = model.trainableWeights.map((w) => ({ name: w.originalName, variable: w.read() as tf.Variable }));
    const x = tf.randomNormal([4, 6, 6, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1], 'int32'), 2);
    const lr = 0.05;
    const step = () => {
      let pending: ReturnType<typeof captureGradients> | null = null;
      let expected: Record<string, number> = {};
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          variables.map((v) => v.variable),
        );
        const named: tf.NamedTensorMap = {};
        for (const v of variables) named[v.name] = grads[v.variable.name];
        pending = captureGradients(7, named, variables);
        expected = Object.fromEntries(variables.map((v) => [v.name, tf.norm(named[v.name]).dataSync()[0]]));
        // Plain SGD: Δw = −lr·g, so ‖Δw‖/‖w‖ = lr·‖g‖/‖w‖.
        for (const v of variables) v.variable.assign(tf.sub(v.variable, tf.mul(named[v.name], lr)));
      });
      return { pending: pending!, expected };
    };
    const weightNorms = Object.fromEntries(variables.map((v) => [v.name, tf.tidy(() => tf.norm(v.variable).dataSync()[0])]));
    const { pending, expected } = step();
    expect(pending.step).toBe(7);
    const stats = pending.finish(variables);
    expect(stats.map((s) => s.layer)).toEqual(['conv1_conv', 'conv2_block1_2_conv', 'conv2_block2_2_conv', 'predictions']);
    for (const s of stats) expect(GradientStatSchema.safeParse(s).success).toBe(true);
    const conv = stats[1];
    expect(conv.gradNorm).toBeCloseTo(expected['conv2_block1_2_conv/kernel'], 5);
    expect(conv.weightNorm).toBeCloseTo(weightNorms['conv2_block1_2_conv/kernel'], 5);
    expect(conv.updateRatio).toBeCloseTo((lr * conv.gradNorm) / conv.weightNorm, 5);
    const dense = stats[3];
    expect(dense.gradNorm).toBeCloseTo(Math.hypot(expected['predictions/kernel'], expected['predictions/bias']), 5);

    // Repeated captures leave no tensor behind.
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step().pending.finish(variables);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });
});
