/**
 * The layer table of a DenseNet, computed from its config alone: exactly the layers, names, order
 * and output volumes that main/engine/model/densenet.ts builds (test/unit/shared/architecture.test.ts
 * checks the two against each other), with parameter and multiply-add counts.
 *
 * Counting rules:
 * - params: conv kh·kw·Cin·Cout (no bias), BN 4·C of which γ, β (2·C) are trainable and the moving
 *   mean and variance (2·C) are not, Dense Cin·classes + classes.
 * - macs: multiply-accumulates of convs (Hout·Wout·kh·kw·Cin·Cout) and of the Dense layer
 *   (Cin·classes), the same things torchvision's "GFLOPS" column counts. BN, ReLU, pooling and
 *   concatenation count 0: they are element-wise and not multiply-adds of weights.
 */
import type { DenseNetConfig } from '../config';
import { stemOutSize, transitionChannels, transitionOutSize, validWindowOut } from './shapes';

export type LayerKind = 'input' | 'zeropad' | 'conv' | 'bn' | 'relu' | 'maxpool' | 'avgpool' | 'concat' | 'dropout' | 'gap' | 'dense';

export interface LayerSummary {
  /** Keras layer name, as in the built tf.LayersModel (e.g. `conv2_block1_1_conv`). */
  name: string;
  kind: LayerKind;
  /** Names of the layers feeding this one (two for a concatenation, none for the input). */
  inputs: string[];
  /** [H, W, C] without the batch axis; [C] after global pooling. */
  outputShape: number[];
  params: number;
  trainableParams: number;
  macs: number;
  /** Id of the connectivity-graph node this layer belongs to (`conv1`, `conv2_block3`, `pool2`, `predictions`); null for the input. */
  group: string | null;
  /** Dense block (1-based) of a layer inside a block or of the transition after it; 0 for the stem; null for the input. */
  block: number | null;
}

/** Builds the table the way the Keras helpers build the model: each helper appends and returns its output. */
class TableBuilder {
  readonly layers: LayerSummary[] = [];
  constructor(private readonly dropRate: number) {}

  add(name: string, kind: LayerKind, inputs: LayerSummary[], outputShape: number[], group: string | null, block: number | null, params = 0, trainableParams = params, macs = 0): LayerSummary {
    const layer: LayerSummary = { name, kind, inputs: inputs.map((l) => l.name), outputShape, params, trainableParams, macs, group, block };
    this.layers.push(layer);
    return layer;
  }

  bn(x: LayerSummary, name: string, group: string, block: number): LayerSummary {
    const c = x.outputShape[x.outputShape.length - 1];
    return this.add(name, 'bn', [x], [...x.outputShape], group, block, 4 * c, 2 * c);
  }

  relu(x: LayerSummary, name: string, group: string, block: number): LayerSummary {
    return this.add(name, 'relu', [x], [...x.outputShape], group, block);
  }

  /** A conv with 'same' padding or, with stride > 1, 'valid' padding (the stem's, after an explicit zero pad). */
  conv(x: LayerSummary, prefix: string, filters: number, kernel: number, group: string, block: number, stride = 1, withDropout = true): LayerSummary {
    const [h, w, cin] = x.outputShape;
    const [oh, ow] = stride === 1 ? [h, w] : [validWindowOut(h, kernel, stride), validWindowOut(w, kernel, stride)];
    const params = kernel * kernel * cin * filters;
    let y = this.add(`${prefix}_conv`, 'conv', [x], [oh, ow, filters], group, block, params, params, oh * ow * params);
    // Paper §4.2: dropout after each conv except the first one.
    if (withDropout && this.dropRate > 0) y = this.add(`${prefix}_drop`, 'dropout', [y], [...y.outputShape], group, block);
    return y;
  }
}

function stem(t: TableBuilder, input: LayerSummary, config: DenseNetConfig): LayerSummary {
  const [h, w] = config.inputShape;
  if (config.stem === 'cifar') return t.conv(input, 'conv1', config.initFeatures, 3, 'conv1', 0, 1, false);
  let x = t.add('conv1_pad', 'zeropad', [input], [h + 6, w + 6, config.inputShape[2]], 'conv1', 0);
  x = t.conv(x, 'conv1', config.initFeatures, 7, 'conv1', 0, 2, false);
  x = t.bn(x, 'conv1_bn', 'conv1', 0);
  x = t.relu(x, 'conv1_relu', 'conv1', 0);
  const [ch, cw, c] = x.outputShape;
  x = t.add('pool1_pad', 'zeropad', [x], [ch + 2, cw + 2, c], 'conv1', 0);
  return t.add('pool1', 'maxpool', [x], [stemOutSize(h, 'imagenet'), stemOutSize(w, 'imagenet'), c], 'conv1', 0);
}

/** Every layer of the network, in the order the builder creates them. Assumes a valid config. */
export function layerTable(config: DenseNetConfig): LayerSummary[] {
  const t = new TableBuilder(config.dropRate);
  const k = config.growthRate;
  let x = t.add('input_1', 'input', [], [...config.inputShape], null, null);
  x = stem(t, x, config);
  config.blocks.forEach((count, b) => {
    const block = b + 1;
    for (let i = 1; i <= count; i++) {
      const name = `conv${block + 1}_block${i}`;
      let y = t.bn(x, `${name}_0_bn`, name, block);
      y = t.relu(y, `${name}_0_relu`, name, block);
      if (config.bottleneck) {
        y = t.conv(y, `${name}_1`, 4 * k, 1, name, block);
        y = t.bn(y, `${name}_1_bn`, name, block);
        y = t.relu(y, `${name}_1_relu`, name, block);
      }
      y = t.conv(y, `${name}_2`, k, 3, name, block);
      const [h, w, c] = x.outputShape;
      x = t.add(`${name}_concat`, 'concat', [x, y], [h, w, c + k], name, block);
    }
    if (b < config.blocks.length - 1) {
      const name = `pool${block + 1}`;
      let y = t.bn(x, `${name}_bn`, name, block);
      y = t.relu(y, `${name}_relu`, name, block);
      y = t.conv(y, name, transitionChannels(x.outputShape[2], config.compression), 1, name, block);
      const [h, w, c] = y.outputShape;
      x = t.add(`${name}_pool`, 'avgpool', [y], [transitionOutSize(h), transitionOutSize(w), c], name, block);
    }
  });
  const last = config.blocks.length;
  let y = t.bn(x, 'bn', 'predictions', last);
  y = t.relu(y, 'relu', 'predictions', last);
  const c = y.outputShape[2];
  y = t.add('avg_pool', 'gap', [y], [c], 'predictions', last);
  const params = c * config.classes + config.classes;
  t.add('predictions', 'dense', [y], [config.classes], 'predictions', last, params, params, c * config.classes);
  return t.layers;
}
