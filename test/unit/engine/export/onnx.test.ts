import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { layersModelToOnnx } from '../../../../main/engine/export/onnx/convert';
import { onnxBytes } from '../../../../main/engine/export/onnx/export-onnx';
import { decodeModel } from '../../../../main/engine/export/onnx/proto';
import type { DenseNetConfig } from '../../../../shared/config';
import { argmaxRows, maxAbsDiff, nhwcToNchw, probeBatch, randomizeBatchNorms, tinyConfig } from '../../../support/tiny-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function compare(config: DenseNetConfig, foldBn: boolean, layout: 'NCHW' | 'NHWC' = 'NCHW') {
  const model = buildDenseNet(config);
  randomizeBatchNorms(model);
  const n = 4;
  const [h, w, c] = config.inputShape;
  const x = probeBatch(n, config.inputShape);
  const expected = tf.tidy(() => (model.predict(tf.tensor4d(x, [n, h, w, c])) as tf.Tensor).dataSync().slice());
  const bytes = onnxBytes(model, { foldBn, inputLayout: layout });
  const session = await ort.InferenceSession.create(bytes);
  const input = layout === 'NCHW' ? new ort.Tensor('float32', nhwcToNchw(x, [n, h, w, c]), [n, c, h, w]) : new ort.Tensor('float32', x, [n, h, w, c]);
  const out = await session.run({ input });
  const logits = out.logits.data as Float32Array;
  const probs = out.probabilities.data as Float32Array;
  model.dispose();
  return { expected, logits, probs, bytes, session };
}

describe('ONNX export, run by ONNX Runtime against the workbench (tfjs cpu)', () => {
  const cases: [string, DenseNetConfig][] = [
    ['cifar stem, bottleneck', tinyConfig()],
    ['imagenet stem, bottleneck, 16×16', tinyConfig({ stem: 'imagenet', inputShape: [16, 16, 3] })],
    ['imagenet stem, odd 19×17 input, no bottleneck, θ=1, dropout', tinyConfig({ stem: 'imagenet', inputShape: [19, 17, 1], bottleneck: false, compression: 1, dropRate: 0.2 })],
  ];
  for (const [label, config] of cases) {
    for (const foldBn of [false, true]) {
      it(`${label}${foldBn ? ', BN folded' : ''}: same top-1, logits within 1e-4`, async () => {
        const { expected, logits, probs } = await compare(config, foldBn);
        expect(logits.length).toBe(4 * config.classes);
        expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-4);
        expect(argmaxRows(logits, config.classes)).toEqual(argmaxRows(expected, config.classes));
        // probabilities = softmax(logits), rows sum to 1
        for (let r = 0; r < 4; r++) {
          const row = Array.from(probs.subarray(r * config.classes, (r + 1) * config.classes));
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        }
      });
    }
  }

  it('accepts NHWC input with a single Transpose at the edge', async () => {
    const { expected, logits, bytes } = await compare(tinyConfig(), false, 'NHWC');
    expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-4);
    const transposes = decodeModel(bytes).graph.node.filter((node) => node.opType === 'Transpose');
    expect(transposes).toHaveLength(1);
  });

  it('writes opset 13, a dynamic batch, named input/outputs and only the listed ops', () => {
    const model = buildDenseNet(tinyConfig({ stem: 'imagenet', inputShape: [16, 16, 3] }));
    const proto = decodeModel(onnxBytes(model));
    expect(proto.opsetImport[0].version).toBe(13);
    expect(proto.graph.input.map((v) => v.name)).toEqual(['input']);
    expect(proto.graph.output.map((v) => v.name)).toEqual(['logits', 'probabilities']);
    expect(proto.graph.input[0].type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 3 }, { dimValue: 16 }, { dimValue: 16 }]);
    const ops = new Set(proto.graph.node.map((node) => node.opType));
    expect([...ops].sort()).toEqual(['AveragePool', 'BatchNormalization', 'Concat', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'MaxPool', 'Relu', 'Softmax']);
    // The imagenet stem's ZeroPadding2D layers fold into the conv and max-pool pads (torchvision: 3 and 1).
    const stemConv = proto.graph.node.find((node) => node.name === 'conv1_conv')!;
    expect(stemConv.attribute.find((a) => a.name === 'pads')!.ints).toEqual([3, 3, 3, 3]);
    const pool = proto.graph.node.find((node) => node.name === 'pool1')!;
    expect(pool.attribute.find((a) => a.name === 'pads')!.ints).toEqual([1, 1, 1, 1]);
    model.dispose();
  });

  it('folds exactly the BNs that follow a conv: the stem BN and every bottleneck BN', () => {
    const config = tinyConfig({ stem: 'imagenet', inputShape: [16, 16, 3] });
    const model = buildDenseNet(config);
    const count = (fold: boolean) => layersModelToOnnx(model, { foldBn: fold }).graph.node.filter((node) => node.opType === 'BatchNormalization').length;
    const layers = config.blocks.reduce((a, b) => a + b, 0);
    const allBn = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
    expect(count(false)).toBe(allBn);
    expect(count(true)).toBe(allBn - 1 - layers); // stem BN + one `_1_bn` per dense layer
    model.dispose();
  });

  it('exports Keras-style softmax heads as logits (pre-softmax) plus probabilities', async () => {
    // Keras applications end in Dense(softmax); some models end in a separate softmax Activation.
    for (const separate of [false, true]) {
      const input = tf.input({ shape: [6, 6, 2] });
      let y = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c' }).apply(input) as tf.SymbolicTensor;
      y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
      y = tf.layers.dense({ units: 4, activation: separate ? 'linear' : 'softmax', name: 'dense' }).apply(y) as tf.SymbolicTensor;
      if (separate) y = tf.layers.activation({ activation: 'softmax', name: 'softmax' }).apply(y) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: y });
      const x = probeBatch(2, [6, 6, 2], 5);
      const expected = tf.tidy(() => (model.predict(tf.tensor4d(x, [2, 6, 6, 2])) as tf.Tensor).dataSync().slice());
      const session = await ort.InferenceSession.create(onnxBytes(model));
      const out = await session.run({ input: new ort.Tensor('float32', nhwcToNchw(x, [2, 6, 6, 2]), [2, 2, 6, 6]) });
      expect(maxAbsDiff(out.probabilities.data as Float32Array, expected)).toBeLessThan(1e-6);
      const logits = out.logits.data as Float32Array;
      expect(Math.abs(logits[0] + logits[1] + logits[2] + logits[3] - 1)).toBeGreaterThan(1e-3); // not probabilities
      model.dispose();
    }
  });

  it('refuses a model with a layer ONNX export does not know, naming it', () => {
    const input = tf.input({ shape: [4, 4, 1] });
    const up = tf.layers.upSampling2d({ size: [2, 2], name: 'upsample' }).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: 'predictions' }).apply(tf.layers.flatten().apply(up)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    expect(() => layersModelToOnnx(model)).toThrow(/layer "upsample" of type UpSampling2D/);
    model.dispose();
  });
});
