import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DenseNetConfig } from '../../../../shared/config';
import { initBackend } from '../../../../main/engine/backend/index';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { foldedInference, structureOf } from '../../../../main/engine/model/folded-inference';
import { relErr, seeded } from '../../../support/wasm';
import { randomizeBatchNorms, tinyConfig } from '../../../support/tiny-models';

// The folded-BN inference pass against tfjs-layers' own inference (model.apply, training: false),
// with non-trivial BN statistics and affine parameters, on cpu and wasm.
const CASES: [string, Partial<DenseNetConfig>][] = [
  ['DenseNet-BC, cifar stem', {}],
  ['DenseNet-BC, ImageNet stem', { stem: 'imagenet', inputShape: [32, 32, 3], initFeatures: 8 }],
  ['DenseNet without bottleneck, with dropout (the identity at inference)', { bottleneck: false, compression: 1, dropRate: 0.2 }],
];

describe('folded-BN inference', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
  });
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const [label, overrides] of CASES) {
      it(`${label} on ${backend}: the logits of model.apply within 1e-5`, async () => {
        await tf.setBackend(backend);
        const config = tinyConfig({ blocks: [3, 2], ...overrides });
        const model = buildDenseNet(config);
        randomizeBatchNorms(model);
        const [h, w, c] = config.inputShape;
        const x = tf.tensor4d(seeded(4 * h * w * c, 5), [4, h, w, c]);
        const expected = tf.tidy(() => Float32Array.from((model.apply(x, { training: false }) as tf.Tensor).dataSync()));
        const before = tf.memory().numTensors;
        expect(structureOf(model)).toEqual({ stem: config.stem, blocks: config.blocks, bottleneck: config.bottleneck });
        const folded = foldedInference(model, config);
        const got = tf.tidy(() => Float32Array.from(folded.logits(x).dataSync()));
        folded.dispose();
        expect(tf.memory().numTensors).toBe(before);
        expect(relErr(expected, got)).toBeLessThanOrEqual(1e-5);
        x.dispose();
        model.dispose();
      });
    }
  }

  it('reads no structure from a model that is not one of the workbench\'s DenseNets', () => {
    const input = tf.input({ shape: [4] });
    const other = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2, name: 'predictions' }).apply(input) as tf.SymbolicTensor });
    expect(structureOf(other)).toBeNull();
    other.dispose();
  });
});
