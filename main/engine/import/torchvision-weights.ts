import type * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import { PRESETS } from '../../../shared/presets';
import { torchvisionNameMap, type TorchvisionNameRow } from '../model/torchvision';
import type { NamedArray } from '../runs/checkpoint';
import { oihwToHwio } from '../export/onnx/layer-graph';
import type { SafeTensor } from './safetensors';

/**
 * torchvision DenseNet state dicts (torchvision/models/densenet.py) onto the workbench's model,
 * through the Foundation's name map (../model/torchvision.ts): OIHW→HWIO for convs, OI→IO for the
 * classifier. Everything is checked before a single weight is written: the architecture the file
 * holds against the variant asked for, unknown and missing keys, and every shape.
 */

/** The architecture a torchvision state dict describes, read off its keys and shapes. */
export interface TorchvisionArchitecture {
  blocks: number[];
  growthRate: number;
  initFeatures: number;
  /** torchvision's `bn_size`: the bottleneck is bnSize·k wide (4 in the paper and torchvision). */
  bnSize: number;
  /** Output channels of the first transition over its input channels (θ). */
  compression: number | null;
  stem: 'imagenet' | 'cifar';
  inputChannels: number;
  classes: number;
}

const IGNORED = /(^|\.)num_batches_tracked$/;
const LAYER_KEY = /^features\.denseblock(\d+)\.denselayer(\d+)\./;

export function inferTorchvisionArchitecture(tensors: Map<string, SafeTensor>): TorchvisionArchitecture | null {
  const conv0 = tensors.get('features.conv0.weight');
  const firstConv2 = tensors.get('features.denseblock1.denselayer1.conv2.weight');
  const firstConv1 = tensors.get('features.denseblock1.denselayer1.conv1.weight');
  const classifier = tensors.get('classifier.weight');
  if (!conv0 || conv0.shape.length !== 4 || !firstConv2 || !firstConv1 || !classifier || classifier.shape.length !== 2) return null;
  const counts: number[] = [];
  for (const key of tensors.keys()) {
    const m = LAYER_KEY.exec(key);
    if (m) counts[Number(m[1]) - 1] = Math.max(counts[Number(m[1]) - 1] ?? 0, Number(m[2]));
  }
  if (counts.length === 0 || counts.some((c) => c === undefined)) return null;
  const growthRate = firstConv2.shape[0];
  const transition = tensors.get('features.transition1.conv.weight');
  return {
    blocks: Array.from(counts),
    growthRate,
    initFeatures: conv0.shape[0],
    bnSize: firstConv1.shape[0] / growthRate,
    compression: transition ? transition.shape[0] / transition.shape[1] : null,
    stem: tensors.has('features.norm0.weight') || conv0.shape[2] === 7 ? 'imagenet' : 'cifar',
    inputChannels: conv0.shape[1],
    classes: classifier.shape[0],
  };
}

export function describeArchitecture(a: Pick<TorchvisionArchitecture, 'blocks' | 'growthRate' | 'initFeatures'>): string {
  const preset = PRESETS.find((p) => {
    const c = p.config();
    return c.stem === 'imagenet' && c.blocks.join() === a.blocks.join() && c.growthRate === a.growthRate && c.initFeatures === a.initFeatures;
  });
  return `blocks [${a.blocks.join(', ')}], growth rate ${a.growthRate}, ${a.initFeatures} initial features${preset ? ` (${preset.name})` : ''}`;
}

/** A config for the architecture in the file (variant `custom`, or the preset it matches). */
export function configFromArchitecture(a: TorchvisionArchitecture, inputShape: [number, number, number], classes = a.classes): DenseNetConfig {
  const config: DenseNetConfig = {
    variant: 'custom',
    blocks: a.blocks,
    growthRate: a.growthRate,
    bottleneck: true,
    compression: a.compression ?? 0.5,
    initFeatures: a.initFeatures,
    stem: a.stem,
    dropRate: 0,
    inputShape,
    classes,
  };
  const preset = PRESETS.find((p) => {
    const c = p.config();
    return ['blocks', 'growthRate', 'bottleneck', 'compression', 'initFeatures', 'stem'].every(
      (k) => JSON.stringify(c[k as keyof DenseNetConfig]) === JSON.stringify(config[k as keyof DenseNetConfig]),
    );
  });
  return preset ? { ...config, variant: preset.name } : config;
}

/** Throws a sentence naming both architectures when the file's weights are not `config`'s. */
export function checkArchitecture(tensors: Map<string, SafeTensor>, config: DenseNetConfig, label: string): TorchvisionArchitecture | null {
  const a = inferTorchvisionArchitecture(tensors);
  if (!a) return null; // not recognisably a DenseNet: the key check below lists what is missing
  const wanted = describeArchitecture(config);
  const problems: string[] = [];
  if (a.blocks.join() !== config.blocks.join() || a.growthRate !== config.growthRate || a.initFeatures !== config.initFeatures) {
    problems.push(`the weights are a DenseNet with ${describeArchitecture(a)}, but ${config.variant} has ${wanted}`);
  }
  if (a.stem !== config.stem) problems.push(`the weights have the ${a.stem} stem, ${config.variant} the ${config.stem} stem`);
  if (a.bnSize !== 4) problems.push(`the weights' bottleneck is ${a.bnSize}·k wide; the workbench builds 4·k (torchvision's bn_size=4)`);
  if (a.compression !== null && Math.abs(a.compression - config.compression) > 1e-9) {
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
 * class count, the model's own freshly initialized `predictions` layer is kept (fine-tuning).
 */
export function mapTorchvisionWeights(tensors: Map<string, SafeTensor>, config: DenseNetConfig, model: tf.LayersModel, label = 'The weights file'): TorchvisionImport {
  const arch = checkArchitecture(tensors, config, label);
  const rows = torchvisionNameMap(config);
  const headReplaced = arch !== null && arch.classes !== config.classes;
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
