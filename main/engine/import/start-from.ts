import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import type { StartFrom, WeightsSourceInfo } from '../../../shared/start-from';
import { PREPROCESSING_FILE, readPreprocessing, type Preprocessing } from '../export/preprocessing';
import { loadCheckpoint, type NamedArray } from '../runs/checkpoint';
import type { ImportRecord } from '../runs/import-record';
import { readRunConfig, resolveRunDir } from '../runs/run-store';
import { getModelWeights } from '../train/model-weights';
import { describeDenseNet, inferDenseNet, matchingPreset, shapeMismatches } from './densenet-shapes';
import { IMAGENET_NORMALIZATION } from './pretrained';
import { describeForeignStateDict } from './state-dict';
import { checkArchitecture, mapTorchvisionWeights } from './torchvision-weights';
import { FORMAT_NAMES, readWeightsFile } from './weights-file';

/**
 * A new run that starts from pretrained weights: what the source holds (for the New run form and
 * the CLI to adopt its architecture, input and normalization), and its weights mapped onto the
 * new run's model, the classifier replaced when the class count differs.
 */
type Architecture = WeightsSourceInfo['architecture'];

const ARCHITECTURE_KEYS = ['blocks', 'growthRate', 'bottleneck', 'compression', 'initFeatures', 'stem'] as const;
const FIELD_NAMES: Record<(typeof ARCHITECTURE_KEYS)[number], string> = {
  blocks: 'blocks', growthRate: 'growth rate k', bottleneck: 'bottleneck', compression: 'compression θ', initFeatures: 'initial features', stem: 'stem',
};

export async function describeStartFrom(from: Exclude<StartFrom, { kind: 'scratch' }>, runsRoot = 'runs'): Promise<WeightsSourceInfo> {
  if (from.kind === 'run') {
    const dir = resolveRunDir(from.run, runsRoot);
    const config = readRunConfig(dir);
    const m = config.model;
    return {
      variant: m.variant,
      architecture: pick(m),
      inputShape: [...m.inputShape] as [number, number, number],
      classes: m.classes,
      classNames: config.dataset.classes,
      normalization: config.normalization,
      description: `Run ${config.name ?? config.id}: ${m.variant} (${describeDenseNet(m)}) trained on ${config.dataset.name} at ${m.inputShape.join('×')}, ${m.classes} classes.`,
    };
  }
  const { tensors, format } = await readWeightsFile(from.file);
  const arch = inferDenseNet(tensors);
  if (!arch) throw new WorkbenchError(`${from.file} is not a torchvision DenseNet state dict: it holds ${describeForeignStateDict([...tensors.keys()])}.`);
  const variant = matchingPreset(arch) ?? 'custom';
  // A workbench export carries its training input and normalization beside it; torchvision's own
  // weights are ImageNet's: 224×224 RGB, normalized with ImageNet's channel statistics.
  const exported = exportedPreprocessing(from.file);
  const channels = arch.inputChannels;
  const inputShape: [number, number, number] = exported
    ? [exported.input.height, exported.input.width, exported.input.channels]
    : arch.stem === 'imagenet' ? [224, 224, channels] : [32, 32, channels];
  const normalization = exported ? exported.normalization : channels === 3 ? IMAGENET_NORMALIZATION : null;
  return {
    variant,
    architecture: pick(arch),
    inputShape,
    classes: arch.classes,
    classNames: exported ? exported.classes : null,
    normalization,
    description: `${FORMAT_NAMES[format]} of ${variant === 'custom' ? 'a custom DenseNet' : variant} (${describeDenseNet(arch)})` +
      `${arch.classes !== null ? `, ${arch.classes} classes` : ', no classifier'}${exported ? ', exported by the workbench' : ''}.`,
  };
}

export interface InitialWeights {
  weights: NamedArray[];
  headReplaced: boolean;
  /** A sentence for the run's log. */
  note: string;
  /** What the weights came from, for the run's import.json. */
  record: Pick<ImportRecord, 'source' | 'kind'>;
}

/**
 * The source's weights for `model` (built from `config`), checked against its architecture. The
 * classifier is replaced when the class count differs, or when the source names its classes
 * (a run, a workbench export) and they are not `classNames`.
 */
export async function loadStartFrom(from: Exclude<StartFrom, { kind: 'scratch' }>, config: DenseNetConfig, model: tf.LayersModel, classNames?: string[], runsRoot = 'runs'): Promise<InitialWeights> {
  const others = (names: string[]) => classNames !== undefined && names.join('\n') !== classNames.join('\n');
  if (from.kind === 'weights') {
    const { tensors, format } = await readWeightsFile(from.file);
    checkArchitecture(tensors, config, from.file);
    const bad = shapeMismatches(tensors, { ...config, inputChannels: config.inputShape[2] });
    if (bad.length) throw new WorkbenchError(`${from.file} does not fit ${config.variant}: ${bad[0]}.`);
    const exported = exportedPreprocessing(from.file);
    const { weights, headReplaced } = mapTorchvisionWeights(tensors, config, model, from.file, exported !== null && others(exported.classes));
    return {
      weights, headReplaced, note: `Starting from the weights in ${from.file}${headReplaced ? ', with a new classifier' : ''}.`,
      record: { source: path.resolve(from.file), kind: format === 'safetensors' ? 'torchvision-safetensors' : 'torchvision-pth' },
    };
  }
  const dir = resolveRunDir(from.run, runsRoot);
  const sourceConfig = readRunConfig(dir);
  const source = sourceConfig.model;
  const differ: string[] = ARCHITECTURE_KEYS.filter((k) => JSON.stringify(source[k]) !== JSON.stringify(config[k])).map((k) => FIELD_NAMES[k]);
  if (source.inputShape[2] !== config.inputShape[2]) differ.push('input channels');
  if (differ.length) {
    throw new WorkbenchError(
      `Run ${path.basename(dir)} is ${source.variant} (${describeDenseNet(source)}, ${source.inputShape[2]}-channel input); the new run is ${config.variant} ` +
        `(${describeDenseNet(config)}, ${config.inputShape[2]}-channel input). They differ in ${differ.join(', ')}; start a run of the same architecture.`,
    );
  }
  const ckpt = loadCheckpoint(dir, from.checkpoint);
  const headReplaced = source.classes !== config.classes || others(sourceConfig.dataset.classes);
  const fresh = new Map(getModelWeights(model).map((w) => [w.name, w]));
  const weights = ckpt.weights.map((w) => (headReplaced && w.name.startsWith('predictions/') ? fresh.get(w.name)! : w));
  return {
    weights,
    headReplaced,
    record: { source: path.join(dir, 'checkpoints', ckpt.manifest.name), kind: 'run-checkpoint' },
    note: `Starting from run ${path.basename(dir)}, checkpoint ${ckpt.manifest.name} (step ${ckpt.manifest.step})${headReplaced ? `, with a new classifier for ${config.classes} classes` : ''}.`,
  };
}

function pick(a: Architecture & Record<string, unknown>): Architecture {
  return Object.fromEntries(ARCHITECTURE_KEYS.map((k) => [k, a[k]])) as Architecture;
}

/** The preprocessing.json of a workbench torchvision export the file sits in, if it is one. */
export function exportedPreprocessing(file: string): Preprocessing | null {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(path.join(dir, PREPROCESSING_FILE))) return null;
  try {
    const pre = readPreprocessing(dir);
    return pre.model.kind === 'torchvision' && path.basename(file) === pre.model.file ? pre : null;
  } catch {
    return null;
  }
}
