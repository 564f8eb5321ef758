import * as tf from '@tensorflow/tfjs';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';

/**
 * Layer ablation: the validation accuracy with one dense layer's k new feature maps zeroed, one
 * layer at a time. It measures a layer's contribution by function, where the contribution
 * matrices measure it by weights.
 *
 * Two implementations, tested to agree:
 *   - `ablateLayers`, the plain one: zero the layer's last conv (`_2_conv`) kernel and evaluate the
 *     whole split again, once per layer. The conv is bias-free (useBias: false) and the dropout
 *     after it is the identity at inference, so a zero kernel makes its output exactly zero, which
 *     is what the block concatenates. The kernel is restored afterwards, also when evaluation throws.
 *   - `ablationOverview` (./ablation-overview), what the inspectors use: every layer at once in one
 *     pass over the split, rerunning only what lies downstream of each zeroed layer, with progress
 *     and cancellation, and without touching the weights.
 */
export interface AblationResult {
  baselineAccuracy: number;
  layers: { layer: string; accuracy: number; drop: number }[];
}

/** The bias-free conv kernel of `name`, checked, as a variable we may overwrite and restore. */
function zeroableKernel(model: tf.LayersModel, name: string): LayerVariable {
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(name);
  } catch {
    throw new RangeError(`The model ${model.name} has no layer named ${name} to ablate.`);
  }
  if (layer.weights.length !== 1 || layer.getClassName() !== 'Conv2D') {
    // A bias would survive a zero kernel: the output would be the bias, not zero.
    throw new RangeError(`Layer ${name} must be a bias-free Conv2D to be ablated by zeroing its kernel; it is a ${layer.getClassName()} with ${layer.weights.length} weights.`);
  }
  return layer.weights[0];
}

/** Runs `run` with `layer`'s output zeroed, then restores the kernel. */
export async function withLayerZeroed<T>(model: tf.LayersModel, layer: string, run: () => Promise<T>): Promise<T> {
  const kernel = zeroableKernel(model, layer);
  // A clone shares the data by reference count, so it keeps the old values once the variable moves on.
  const saved = tf.clone(kernel.read());
  const zeros = tf.zerosLike(saved);
  kernel.write(zeros);
  zeros.dispose(); // the variable holds its own reference to the data
  try {
    return await run();
  } finally {
    kernel.write(saved);
    saved.dispose();
  }
}

export async function ablateLayers(
  model: tf.LayersModel,
  layers: readonly string[],
  evaluateAccuracy: () => Promise<number>,
  onLayer?: (done: number, total: number, layer: string) => void,
): Promise<AblationResult> {
  for (const name of layers) zeroableKernel(model, name); // fail before any long evaluation
  const baselineAccuracy = await evaluateAccuracy();
  const results: AblationResult['layers'] = [];
  for (const [i, layer] of layers.entries()) {
    const accuracy = await withLayerZeroed(model, layer, evaluateAccuracy);
    results.push({ layer, accuracy, drop: baselineAccuracy - accuracy });
    onLayer?.(i + 1, layers.length, layer);
  }
  return { baselineAccuracy, layers: results };
}
