import type * as tf from '@tensorflow/tfjs';

/** The layer graph of a functional tf.LayersModel, read the way an exporter needs it. */
export type AnyLayer = tf.layers.Layer;

export interface LayerGraph {
  /** Layers in topological order (tf.LayersModel keeps `layers` sorted that way). */
  layers: AnyLayer[];
  inputsOf(layer: AnyLayer): AnyLayer[];
  consumersOf(layer: AnyLayer): AnyLayer[];
  /** Input shape of a single-input layer, batch dimension included (null). */
  inputShape(layer: AnyLayer): (number | null)[];
}

export function layerGraph(model: tf.LayersModel): LayerGraph {
  const consumers = new Map<string, AnyLayer[]>();
  for (const layer of model.layers) {
    if (layer.inboundNodes.length > 1) {
      // A shared layer would need one ONNX node per call; the DenseNet builder never shares layers.
      throw new Error(`Layer "${layer.name}" is called ${layer.inboundNodes.length} times; shared layers cannot be exported.`);
    }
    for (const source of inbound(layer)) {
      const list = consumers.get(source.name) ?? [];
      list.push(layer);
      consumers.set(source.name, list);
    }
  }
  return {
    layers: model.layers,
    inputsOf: inbound,
    consumersOf: (layer) => consumers.get(layer.name) ?? [],
    inputShape(layer) {
      const shapes = layer.inboundNodes[0]?.inputShapes;
      const shape = Array.isArray(shapes?.[0]) ? (shapes as (number | null)[][])[0] : (shapes as (number | null)[]);
      if (!shape) throw new Error(`Layer "${layer.name}" has no input shape.`);
      return shape;
    },
  };
}

function inbound(layer: AnyLayer): AnyLayer[] {
  const node = layer.inboundNodes[0];
  return node ? node.inboundLayers : [];
}

/**
 * A layer's weights by role (`kernel`, `bias`, `gamma`, `beta`, `moving_mean`, `moving_variance`),
 * read from each variable's original name so freezing (which reorders nothing today) or a future
 * reordering cannot swap them.
 */
export function weightsByRole(layer: AnyLayer): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  // getWeights() hands out the variables' own tensors (LayerVariable.read), so nothing to dispose.
  const values = layer.getWeights();
  layer.weights.forEach((variable, i) => {
    const role = variable.originalName.split('/').pop()!.replace(/_\d+$/, '');
    out.set(role, { shape: values[i].shape, values: values[i].dataSync() as Float32Array });
  });
  return out;
}

/** HWIO (TF.js/Keras) → OIHW (ONNX, PyTorch). */
export function hwioToOihw(values: Float32Array, [h, w, i, o]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < i; c++)
        for (let k = 0; k < o; k++) out[((k * i + c) * h + y) * w + x] = values[((y * w + x) * i + c) * o + k];
  return out;
}

/** OIHW → HWIO, the inverse of {@link hwioToOihw}. */
export function oihwToHwio(values: Float32Array, [o, i, h, w]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let k = 0; k < o; k++)
    for (let c = 0; c < i; c++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((y * w + x) * i + c) * o + k] = values[((k * i + c) * h + y) * w + x];
  return out;
}

/**
 * Explicit ONNX pads [top, left, bottom, right] for Keras `same` padding, which puts the odd pixel
 * at the end (TensorFlow's convention; ONNX's SAME_UPPER does too, but explicit pads keep the file
 * unambiguous for every runtime).
 */
export function samePads(inH: number, inW: number, kernel: number[], strides: number[], dilation: number[]): number[] {
  const total = (size: number, k: number, s: number, d: number) => {
    const effective = (k - 1) * d + 1;
    return Math.max((Math.ceil(size / s) - 1) * s + effective - size, 0);
  };
  const th = total(inH, kernel[0], strides[0], dilation[0]);
  const tw = total(inW, kernel[1], strides[1], dilation[1]);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}
