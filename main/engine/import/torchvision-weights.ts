import type * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import { PRESETS } from '../../../shared/presets';
import { torchvisionNameMap, type TorchvisionNameRow } from '../model/torchvision';
import type { NamedArray } from '../runs/checkpoint';
import { oihwToHwio } from '../export/onnx/layer-graph';
import type { SafeTensor } from './safetensors';
import { inferDenseNet, type DenseNetArchitecture } from './densenet-shapes';

/**
 * torchvision DenseNet state dicts (torchvision/models/densenet.py) onto the workbench's model,
 * through the Foundation's name map (../model/torchvision.ts): OIHW→HWIO for convs, OI→IO for the
 * classifier. Everything is checked before a single weight is written: the architecture the file
 * holds against the variant asked for, unknown and missing keys, and every shape.
 */

const IGNORED = /(^|\.)num_batches_tracked$/;

export function describeArchitecture(a: Pick<DenseNetConfig, 'blocks' | 'growthRate' | 'initFeatures'>): string {
  const preset = PRESETS.find((p) => {
    const c = p.config();
    return c.stem === 'imagenet' && c.blocks.join() === a.blocks.join() && c.growthRate === a.growthRate && c.initFeatures === a.initFeatures;
  });
  return `blocks [${a.blocks.join(', ')}], growth rate ${a.growthRate}, ${a.initFeatures} initial features${preset ? ` (${preset.name})` : ''}`;
}

/** Throws a sentence naming both architectures when the file's weights are not `config`'s. */
export function checkArchitecture(tensors: Map<string, SafeTensor>, config: DenseNetConfig, label: string): DenseNetArchitecture | null {
  const a = inferDenseNet(tensors);
  if (!a) return null; // not recognisably a DenseNet: the key check below lists what is missing
  const wanted = describeArchitecture(config);
  const problems: string[] = [];
  if (a.blocks.join() !== config.blocks.join() || a.growthRate !== config.growthRate || a.initFeatures !== config.initFeatures) {
    problems.push(`the weights are a DenseNet with ${describeArchitecture(a)}, but ${config.variant} has ${wanted}`);
  }
  if (a.stem !== config.stem) problems.push(`the weights have the ${a.stem} stem, ${config.variant} the ${config.stem} stem`);
  if (a.bottleneck !== config.bottleneck) {
    problems.push(`the weights' dense layers ${a.bottleneck ? 'have' : 'have no'} bottleneck (1×1) conv, ${config.variant}'s ${config.bottleneck ? 'have' : 'have none'}`);
  }
  if (a.bnSize !== null && a.bnSize !== 4) problems.push(`the weights' bottleneck is ${a.bnSize}·k wide; the workbench builds 4·k (torchvision's bn_size=4)`);
  if (a.blocks.length > 1 && Math.abs(a.compression - config.compression) > 1e-9) {
    problems.push(`the weights' transitions compress by θ=${a.compression}, ${config.variant} by θ=${config.compression}`);
  }
  if (a.inputChannels !== config.inputShape[2]) {
    problems.push(`the weights take ${a.inputChannels}-channel input, the model ${config.inputShape[2]}-channel`);
  }
  if (problems.length > 0) throw new WorkbenchError(`${label} does not match variant ${config.variant}: ${problems.join('; ')}.`);
  return a;
}

export interface TorchvisionImport {
  /** Every model weight by checkpoint name (`layer/weight`), ready for setModelWeights / a checkpoint. */
  weights: NamedArray[];
  /** True when the classifier was left freshly initialized because the class count differs. */
  headReplaced: boolean;
  /** State-dict keys deliberately not loaded (num_batches_tracked, a replaced classifier). */
  ignored: string[];
}

/**
 * Maps `tensors` onto `model` (built from `config`). When the file's classifier has a different
 * class count, or `replaceClassifier` says its classes are others, the model's own freshly
 * initialized `predictions` layer is kept (fine-tuning).
 */
export function mapTorchvisionWeights(tensors: Map<string, SafeTensor>, config: DenseNetConfig, model: tf.LayersModel, label = 'The weights file', replaceClassifier = false): TorchvisionImport {
  const arch = checkArchitecture(tensors, config, label);
  const rows = torchvisionNameMap(config);
  // A state dict without a classifier (a feature extractor) gets the model's fresh one, and so
  // does a new run whose classes are others than the weights' (`replaceClassifier`).
  const headReplaced = arch !== null && (arch.classes !== config.classes || replaceClassifier);
  const isHead = (key: string) => key.startsWith('classifier.');
  const expected = new Set(rows.filter((r) => !(headReplaced && isHead(r.torch))).map((r) => r.torch));
  const ignored = [...tensors.keys()].filter((k) => IGNORED.test(k) || (headReplaced && isHead(k)));
  const unknown = [...tensors.keys()].filter((k) => !expected.has(k) && !ignored.includes(k));
  const missing = [...expected].filter((k) => !tensors.has(k));
  if (unknown.length || missing.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${list(missing)}`);
    if (unknown.length) parts.push(`unknown ${list(unknown)}`);
    throw new WorkbenchError(`${label} does not have the state-dict keys of ${config.variant}: ${parts.join('; ')}.`);
  }

  const modelShapes = new Map(model.weights.map((w) => [w.originalName, w.shape as number[]]));
  const byKeras = new Map<string, TorchvisionNameRow>(rows.map((r) => [`${r.keras}/${r.weight}`, r]));
  const problems: string[] = [];
  const weights: NamedArray[] = [];
  for (const w of model.weights) {
    const name = w.originalName;
    const row = byKeras.get(name);
    const shape = modelShapes.get(name)!;
    if (!row) throw new WorkbenchError(`Internal error: model weight ${name} has no torchvision name.`, { user: false });
    if (headReplaced && isHead(row.torch)) {
      weights.push({ name, shape, data: Float32Array.from(w.read().dataSync() as Float32Array) });
      continue;
    }
    const t = tensors.get(row.torch)!;
    const torchShape = row.layout === 'OIHW->HWIO' ? [shape[3], shape[2], shape[0], shape[1]] : row.layout === 'OI->IO' ? [shape[1], shape[0]] : shape;
    if (!(t.data instanceof Float32Array)) {
      problems.push(`tensor "${row.torch}" has dtype ${t.dtype}; weights must be F32, F16, BF16 or F64`);
      continue;
    }
    if (t.shape.join() !== torchShape.join()) {
      problems.push(`tensor "${row.torch}" has shape [${t.shape.join(', ')}] but ${config.variant} needs [${torchShape.join(', ')}] (for ${name})`);
      continue;
    }
    const data = row.layout === 'OIHW->HWIO' ? oihwToHwio(t.data, t.shape) : row.layout === 'OI->IO' ? transpose2d(t.data, t.shape[0], t.shape[1]) : t.data;
    weights.push({ name, shape, data });
  }
  if (problems.length) throw new WorkbenchError(`${label} does not fit ${config.variant}: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}.`);
  return { weights, headReplaced, ignored };
}

function list(keys: string[]): string {
  const shown = keys.slice(0, 10).map((k) => `"${k}"`).join(', ');
  return `${keys.length} (${shown}${keys.length > 10 ? `, … ${keys.length - 10} more` : ''})`;
}

/** [rows, cols] row-major → [cols, rows] row-major. */
function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
