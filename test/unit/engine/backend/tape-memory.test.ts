import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installTapeMemoryRelease, uninstallTapeMemoryRelease } from '../../../../main/engine/backend/tape-memory';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { getPreset } from '../../../../shared/presets';
import { relErr, seeded } from '../../../support/wasm';

// The early release of saved tensors and used gradients must not change any gradient; it only
// changes when memory is freed. Checked on cpu against tfjs' own Engine.gradients.
const config = { ...getPreset('demo-bc-tiny', { inputShape: [8, 8, 3], classes: 3 }), blocks: [2, 2], growthRate: 4, initFeatures: 8, variant: 'custom' };

function denseNetGrads(model: tf.LayersModel): Float32Array[] {
  const x = tf.tensor4d(seeded(2 * 8 * 8 * 3, 1), [2, 8, 8, 3]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
  const out = vars.map((v) => Float32Array.from(grads[v.name].dataSync()));
  tf.dispose([x, y, value, ...Object.values(grads)]);
  return out;
}

describe('tape memory release', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(() => uninstallTapeMemoryRelease());

  it('gives the same DenseNet gradients as tfjs and leaks nothing', () => {
    const model = buildDenseNet(config);
    uninstallTapeMemoryRelease();
    const reference = denseNetGrads(model);
    installTapeMemoryRelease();
    const before = tf.memory().numTensors;
    const released = denseNetGrads(model);
    expect(tf.memory().numTensors).toBe(before);
    expect(released.length).toBe(reference.length);
    released.forEach((g, i) => expect(relErr(reference[i], g)).toBe(0));
  });

  it('keeps gradients asked for on intermediate tensors, a caller-supplied dy, and second-order gradients', () => {
    installTapeMemoryRelease();
    const x = tf.tensor1d([1, -2, 3]);
    // d/dh of sum(relu(h)^2) where h = 2x: the gradient requested on h (an intermediate) survives.
    const dy = tf.scalar(2);
    const { value, grads } = tf.tidy(() => {
      const h = tf.mul(x, 2);
      const r = tf.engine().gradients(() => tf.sum(tf.square(tf.relu(h))), [h], dy);
      return { value: r.value, grads: r.grads };
    });
    expect(Array.from(grads[0].dataSync())).toEqual([8, 0, 24]);
    expect(value.dataSync()[0]).toBe(4 + 36);
    expect(dy.isDisposed).toBe(false);
    // Second order: d2/dx2 of x^3 = 6x.
    const g2 = tf.grad((a: tf.Tensor) => tf.grad((b: tf.Tensor) => tf.sum(tf.pow(b, 3)))(a))(x);
    expect(Array.from(g2.dataSync())).toEqual([6, -12, 18]);
    tf.dispose([x, dy, value, grads[0], g2]);
  });
});
