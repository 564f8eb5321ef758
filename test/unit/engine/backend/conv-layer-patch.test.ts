import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchConv2DLayer, unpatchConv2DLayer } from '../../../../main/engine/backend/conv-layer-patch';
import { initBackend } from '../../../../main/engine/backend/index';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { relErr, seeded } from '../../../support/wasm';
import { tinyConfig } from '../../../support/tiny-models';

// tf.layers' Conv2D through plain tf.conv2d: the same outputs and weight gradients as tfjs-layers'
// fused path, without the gradient of the (zero-padded) input image that nothing needs.
describe('the Conv2D layer patch', () => {
  beforeAll(async () => {
    await initBackend('wasm', { threads: 2 });
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`gives tfjs-layers' outputs and gradients on ${backend}, and skips the image's gradient`, async () => {
      await tf.setBackend(backend);
      const config = tinyConfig({ stem: 'imagenet', inputShape: [32, 32, 3], blocks: [2, 2] });
      const model = buildDenseNet(config);
      const x = tf.tensor4d(seeded(2 * 32 * 32 * 3, 3), [2, 32, 32, 3]);
      const run = async () => {
        let out: Float32Array[] = [];
        const info = await tf.profile(() => {
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
          out = [value, ...Object.values(grads)].map((t) => Float32Array.from(t.dataSync()));
          tf.dispose([value, ...Object.values(grads)]);
          return [];
        });
        const imageGrads = info.kernels.filter((k) => k.name.startsWith('Conv2DBackpropInput') && (k.outputShapes[0] ?? [])[3] === 3).length;
        return { out, imageGrads };
      };
      unpatchConv2DLayer();
      const stock = await run();
      patchConv2DLayer();
      const patched = await run();
      expect(stock.imageGrads).toBe(1);
      expect(patched.imageGrads).toBe(0);
      stock.out.forEach((s, i) => expect(relErr(s, patched.out[i]), `tensor ${i}`).toBeLessThanOrEqual(1e-6));
      tf.dispose(x);
      model.dispose();
    });
  }
});
