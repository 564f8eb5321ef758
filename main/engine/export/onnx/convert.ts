import type * as tf from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../../shared/errors';
import { foldBatchNorm, type BatchNormParams } from './fold-bn';
import { OnnxGraphBuilder, floatValueInfo, type AttrValue } from './graph-builder';
import { layerGraph, hwioToOihw, samePads, weightsByRole, type AnyLayer, type LayerGraph } from './layer-graph';
import { IR_VERSION, OPSET_VERSION, type ModelProtoData } from './proto';

export type OnnxInputLayout = 'NCHW' | 'NHWC';

export interface OnnxConvertOptions {
  /** Fold each BN that directly follows a conv into it (see fold-bn.ts for what folds). */
  foldBn?: boolean;
  /** NCHW (default, what ONNX models usually take) or NHWC with one Transpose at the input. */
  inputLayout?: OnnxInputLayout;
  producerVersion?: string;
  /** Stored as ModelProto.metadata_props. */
  metadata?: Record<string, string>;
}

export const ONNX_INPUT = 'input';
export const ONNX_LOGITS = 'logits';
export const ONNX_PROBABILITIES = 'probabilities';

/** Layers that are the identity at inference. */
const IDENTITY_AT_INFERENCE = new Set(['Dropout', 'SpatialDropout2D', 'GaussianDropout', 'GaussianNoise', 'AlphaDropout']);
const DROPOUT = IDENTITY_AT_INFERENCE;

/**
 * Converts a functional TF.js model of standard layers (the DenseNet builder's output) into an
 * ONNX graph: NCHW inside, with a Transpose only at the input when NHWC input is asked for.
 * Outputs `logits` [batch, classes] and `probabilities` = Softmax(logits); batch is dynamic.
 */
export function layersModelToOnnx(model: tf.LayersModel, options: OnnxConvertOptions = {}): ModelProtoData {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new WorkbenchError(`ONNX export needs a model with one input and one output; got ${model.inputs.length} and ${model.outputs.length}.`);
  }
  const graph = layerGraph(model);
  const b = new OnnxGraphBuilder();
  const layout = options.inputLayout ?? 'NCHW';
  const [, h, w, c] = model.inputs[0].shape as (number | null)[];
  if (!h || !w || !c) throw new WorkbenchError(`ONNX export needs a fixed input size; the model takes [${model.inputs[0].shape.join(', ')}].`);

  // Where the logits come from: the output layer, or what feeds its softmax.
  const outputLayer = model.outputs[0].sourceLayer as AnyLayer;
  const outputActivation = activationOf(outputLayer);
  const softmaxOnOutput = outputActivation === 'softmax';
  const softmaxIsOwnLayer = softmaxOnOutput && outputLayer.getClassName() !== 'Dense';
  const logitsLayer = softmaxIsOwnLayer ? graph.inputsOf(outputLayer)[0] : outputLayer;

  const value = new Map<string, string>(); // layer name -> ONNX value name of its output
  const folded = new Set<string>(); // BN layers folded into their conv
  const padOf = new Map<string, number[]>(); // ZeroPadding2D folded into its consumers: [t, l, b, r]
  const src = (layer: AnyLayer) => {
    const v = value.get(layer.name);
    if (v === undefined) throw new Error(`Internal error: layer "${layer.name}" used before it was converted.`);
    return v;
  };
  const outName = (layer: AnyLayer) => (layer === logitsLayer ? ONNX_LOGITS : layer.name);

  for (const layer of graph.layers) {
    const cls = layer.getClassName();
    const config = layer.getConfig() as Record<string, unknown>;
    const inputs = graph.inputsOf(layer);
    if (cls === 'InputLayer') {
      b.declare(ONNX_INPUT);
      if (layout === 'NHWC') {
        b.node('Transpose', 'input_to_nchw', [ONNX_INPUT], ['input_nchw'], { perm: { ints: [0, 3, 1, 2] } }, 'The one layout change: NHWC input to NCHW.');
        value.set(layer.name, 'input_nchw');
      } else value.set(layer.name, ONNX_INPUT);
      continue;
    }
    if (layer === outputLayer && softmaxIsOwnLayer) continue; // emitted once at the end
    if (IDENTITY_AT_INFERENCE.has(cls) || folded.has(layer.name) || (cls === 'Activation' && config.activation === 'linear')) {
      value.set(layer.name, src(inputs[0]));
      continue;
    }
    const x = src(inputs[0]);
    const y = outName(layer);
    switch (cls) {
      case 'ZeroPadding2D': {
        const [[t, bo], [l, r]] = config.padding as [[number, number], [number, number]];
        if (canFoldPadding(graph, layer)) {
          padOf.set(layer.name, [t, l, bo, r]);
          value.set(layer.name, x);
        } else {
          const pads = b.int64Tensor(`${layer.name}_pads`, [0, 0, t, l, 0, 0, bo, r]);
          b.node('Pad', layer.name, [x, pads], [y], { mode: { string: 'constant' } });
          value.set(layer.name, y);
        }
        continue;
      }
      case 'Conv2D': {
        const weights = weightsByRole(layer);
        const kernel = weights.get('kernel')!;
        const [kh, kw, , outC] = kernel.shape;
        let oihw = hwioToOihw(kernel.values, kernel.shape);
        let bias = weights.get('bias')?.values ?? null;
        const bn = options.foldBn ? foldableBatchNorm(graph, layer) : null;
        if (bn) {
          ({ weights: oihw, bias } = foldBatchNorm(oihw, bias, batchNormParams(bn), outC));
          folded.add(bn.name);
        }
        const inputsOnnx = [x, b.floatTensor(`${layer.name}_W`, [outC, kernel.shape[2], kh, kw], oihw)];
        if (bias) inputsOnnx.push(b.floatTensor(`${layer.name}_B`, [outC], bias));
        const convOut = activationOf(layer) === 'linear' ? y : `${layer.name}_preact`;
        b.node('Conv', layer.name, inputsOnnx, [convOut], {
          ...windowAttrs(graph, layer, padOf, [kh, kw]),
          dilations: { ints: pair(config.dilationRate) },
          group: { int: 1 },
        }, bn ? `Batch norm "${bn.name}" folded in.` : undefined);
        if (convOut !== y) emitActivation(b, layer, convOut, y);
        value.set(layer.name, y);
        if (bn) value.set(bn.name, y);
        continue;
      }
      case 'BatchNormalization': {
        requireChannelsLast(layer, config.axis);
        const p = batchNormParams(layer);
        const n = p.mean.length;
        b.node('BatchNormalization', layer.name, [
          x,
          b.floatTensor(`${layer.name}_scale`, [n], p.gamma ?? new Float32Array(n).fill(1)),
          b.floatTensor(`${layer.name}_bias`, [n], p.beta ?? new Float32Array(n)),
          b.floatTensor(`${layer.name}_mean`, [n], p.mean),
          b.floatTensor(`${layer.name}_var`, [n], p.variance),
        ], [y], { epsilon: { float: p.epsilon } });
        break;
      }
      case 'Activation':
      case 'ReLU':
        emitActivation(b, layer, x, y);
        break;
      case 'Concatenate':
        requireChannelsLast(layer, config.axis);
        b.node('Concat', layer.name, inputs.map(src), [y], { axis: { int: 1 } });
        break;
      case 'AveragePooling2D':
      case 'MaxPooling2D': {
        const size = pair(config.poolSize);
        b.node(cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', layer.name, [x], [y], windowAttrs(graph, layer, padOf, size));
        break;
      }
      case 'GlobalAveragePooling2D':
        b.node('GlobalAveragePool', layer.name, [x], [`${layer.name}_4d`]);
        b.node('Flatten', `${layer.name}_flatten`, [`${layer.name}_4d`], [y], { axis: { int: 1 } });
        break;
      case 'Dense': {
        const weights = weightsByRole(layer);
        const kernel = weights.get('kernel')!;
        const bias = weights.get('bias')?.values ?? new Float32Array(kernel.shape[1]);
        const act = activationOf(layer);
        const gemmOut = layer === logitsLayer ? ONNX_LOGITS : act === 'linear' ? y : `${layer.name}_preact`;
        b.node('Gemm', layer.name, [
          x,
          b.floatTensor(`${layer.name}_W`, kernel.shape, kernel.values),
          b.floatTensor(`${layer.name}_B`, [bias.length], bias),
        ], [gemmOut], { transB: { int: 0 } });
        if (layer !== logitsLayer && act !== 'linear') emitActivation(b, layer, gemmOut, y);
        value.set(layer.name, layer === logitsLayer ? ONNX_LOGITS : y);
        continue;
      }
      default:
        throw new WorkbenchError(`ONNX export does not support layer "${layer.name}" of type ${cls}; supported: Conv2D, BatchNormalization, Activation, ReLU, Concatenate, pooling, ZeroPadding2D, Dense, Dropout.`);
    }
    value.set(layer.name, y);
  }

  const logits = src(logitsLayer);
  if (logits !== ONNX_LOGITS) b.node('Identity', 'logits', [logits], [ONNX_LOGITS]);
  b.node('Softmax', 'probabilities', [ONNX_LOGITS], [ONNX_PROBABILITIES], { axis: { int: 1 } });

  const classes = model.outputs[0].shape[1] as number;
  const inputDims: (number | 'batch')[] = layout === 'NCHW' ? ['batch', c, h, w] : ['batch', h, w, c];
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'densenet-workbench',
    producerVersion: options.producerVersion ?? '0',
    docString: `DenseNet exported from TF.js${options.foldBn ? ' with batch norms folded into convolutions where possible' : ''}.`,
    graph: {
      name: model.name,
      node: b.nodes,
      initializer: b.initializers,
      input: [floatValueInfo(ONNX_INPUT, inputDims, `Images, ${layout}, float32, normalized as preprocessing.json says.`)],
      output: [
        floatValueInfo(ONNX_LOGITS, ['batch', classes], 'Class scores before softmax.'),
        floatValueInfo(ONNX_PROBABILITIES, ['batch', classes], 'Softmax of the logits.'),
      ],
    },
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, v]) => ({ key, value: v })),
  };
}

function emitActivation(b: OnnxGraphBuilder, layer: AnyLayer, x: string, y: string): void {
  const act = layer.getClassName() === 'ReLU' ? reluLayerKind(layer) : activationOf(layer);
  const name = layer.getClassName() === 'Activation' || layer.getClassName() === 'ReLU' ? layer.name : `${layer.name}_${act}`;
  if (act === 'relu') b.node('Relu', name, [x], [y]);
  else if (act === 'softmax') b.node('Softmax', name, [x], [y], { axis: { int: 1 } });
  else if (act === 'sigmoid') b.node('Sigmoid', name, [x], [y]);
  else if (act === 'tanh') b.node('Tanh', name, [x], [y]);
  else throw new WorkbenchError(`ONNX export does not support activation "${act}" in layer "${layer.name}"; supported: linear, relu, softmax, sigmoid, tanh.`);
}

function reluLayerKind(layer: AnyLayer): string {
  const config = layer.getConfig() as { maxValue?: number | null };
  return config.maxValue == null ? 'relu' : `relu with max value ${config.maxValue}`;
}

function activationOf(layer: AnyLayer): string {
  const act = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof act === 'string' ? act : 'linear';
}

function pair(v: unknown): number[] {
  return Array.isArray(v) ? (v as number[]) : [v as number, v as number];
}

function requireChannelsLast(layer: AnyLayer, axis: unknown): void {
  const a = Array.isArray(axis) ? axis[0] : axis;
  if (a !== -1 && a !== 3) throw new WorkbenchError(`ONNX export needs layer "${layer.name}" to work on the channel axis (-1 or 3); got axis ${String(a)}.`);
}

/** kernel_shape, strides and pads of a conv or pool, with a folded ZeroPadding2D added in. */
function windowAttrs(graph: LayerGraph, layer: AnyLayer, padOf: Map<string, number[]>, kernel: number[]): Record<string, AttrValue> {
  const config = layer.getConfig() as { strides?: unknown; padding?: string; dilationRate?: unknown; dataFormat?: string };
  if (config.dataFormat && config.dataFormat !== 'channelsLast') {
    throw new WorkbenchError(`ONNX export needs channelsLast layers; layer "${layer.name}" is ${config.dataFormat}.`);
  }
  const strides = pair(config.strides ?? kernel);
  const [, inH, inW] = graph.inputShape(layer) as number[];
  const pads = config.padding === 'same' ? samePads(inH, inW, kernel, strides, pair(config.dilationRate ?? 1)) : [0, 0, 0, 0];
  const extra = padOf.get(graph.inputsOf(layer)[0].name);
  if (extra) extra.forEach((p, i) => (pads[i] += p));
  return { kernel_shape: { ints: kernel }, strides: { ints: strides }, pads: { ints: pads } };
}

/**
 * A ZeroPadding2D folds into the pads of its consumers when every consumer is a conv (zero padding is
 * what Conv pads with) or a max-pool over non-negative values (a ReLU's output): there a zero never
 * wins over the real values, so ONNX's −∞ padding gives the same maximum. That is the imagenet stem
 * (torchvision: MaxPool2d(3, 2, padding=1) after ReLU).
 */
function canFoldPadding(graph: LayerGraph, pad: AnyLayer): boolean {
  const consumers = graph.consumersOf(pad);
  const producer = graph.inputsOf(pad)[0];
  const nonNegative = activationOf(producer) === 'relu' || producer.getClassName() === 'ReLU';
  return consumers.length > 0 && consumers.every((c) => {
    const cls = c.getClassName();
    return cls === 'Conv2D' || (cls === 'MaxPooling2D' && nonNegative);
  });
}

/** The BN that can fold into `conv`: the conv's only reader (through dropout), with the conv linear. */
function foldableBatchNorm(graph: LayerGraph, conv: AnyLayer): AnyLayer | null {
  if (activationOf(conv) !== 'linear') return null;
  let current = conv;
  for (;;) {
    const consumers = graph.consumersOf(current);
    if (consumers.length !== 1) return null;
    const next = consumers[0];
    if (DROPOUT.has(next.getClassName())) {
      current = next;
      continue;
    }
    if (next.getClassName() !== 'BatchNormalization') return null;
    const axis = (next.getConfig() as { axis: unknown }).axis;
    const a = Array.isArray(axis) ? axis[0] : axis;
    return a === -1 || a === 3 ? next : null;
  }
}

function batchNormParams(layer: AnyLayer): BatchNormParams {
  const w = weightsByRole(layer);
  return {
    gamma: w.get('gamma')?.values ?? null,
    beta: w.get('beta')?.values ?? null,
    mean: w.get('moving_mean')!.values,
    variance: w.get('moving_variance')!.values,
    epsilon: (layer.getConfig() as { epsilon: number }).epsilon,
  };
}
