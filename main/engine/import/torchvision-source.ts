import type * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import { getPreset } from '../../../shared/presets';
import { assertValidConfig } from '../../../shared/validation';
import { buildDenseNet } from '../model/densenet';
import type { NamedArray } from '../runs/checkpoint';
import { describeDenseNet, inferDenseNet, matchingPreset, shapeMismatches, type DenseNetArchitecture } from './densenet-shapes';
import { describeForeignStateDict } from './state-dict';
import { checkArchitecture, mapTorchvisionWeights } from './torchvision-weights';
import { FORMAT_NAMES, readWeightsFile, type WeightsFormat } from './weights-file';

/**
 * A torchvision DenseNet weights file (.pth or .safetensors) as a built model with its weights
 * mapped: which variant it is (read off the shapes unless the user names one), a check that every
 * shape fits before anything is built, and the classifier replaced when the class count differs.
 */
export interface TorchvisionSourceOptions {
  /** A preset name, or `auto` / undefined to read the architecture off the weights. */
  variant?: string;
  inputShape?: [number, number, number];
  /** Classes the run needs; a different count than the file's replaces the classifier. */
  classes?: number;
  /** Replace the classifier even when the count is the same (the run's classes are others). */
  replaceClassifier?: boolean;
}

export interface TorchvisionSource {
  config: DenseNetConfig;
  /** Built from `config`, holding fresh weights: the caller sets `weights` and disposes it. */
  model: tf.LayersModel;
  weights: NamedArray[];
  headReplaced: boolean;
  ignored: string[];
  format: WeightsFormat;
  /** What was done to read the file, and how the variant was chosen, as sentences for the user. */
  notes: string[];
}

export async function loadTorchvisionSource(file: string, options: TorchvisionSourceOptions = {}): Promise<TorchvisionSource> {
  const { tensors, format, notes } = await readWeightsFile(file);
  const arch = inferDenseNet(tensors);
  if (!arch) {
    throw new WorkbenchError(`${file} is not a torchvision DenseNet state dict (it has no features.conv0 and dense layers): it holds ${describeForeignStateDict([...tensors.keys()])}.`);
  }
  const variant = options.variant ?? 'auto';
  const readNotes = notes.map((n) => `Read ${FORMAT_NAMES[format]}: ${n}.`);
  let config: DenseNetConfig;
  if (variant === 'auto') {
    config = configFromWeights(arch, tensors, file, options);
    const preset = matchingPreset(arch);
    readNotes.push(
      preset
        ? `Variant ${preset}, read off the weights' shapes (${describeDenseNet(arch)}); --variant overrides.`
        : `A custom DenseNet read off the weights' shapes (${describeDenseNet(arch)}), which is none of the presets; --variant overrides.`,
    );
  } else {
    config = getPreset(variant, { inputShape: options.inputShape, classes: options.classes ?? arch.classes ?? undefined });
    checkArchitecture(tensors, config, file);
    const bad = shapeMismatches(tensors, { ...config, inputChannels: config.inputShape[2] });
    if (bad.length) throw new WorkbenchError(`${file} does not fit ${variant}: ${bad[0]}${bad.length > 1 ? ` (and ${bad.length - 1} more layers)` : ''}.`);
    readNotes.push(`Variant ${variant}, as --variant asked.`);
  }
  assertValidConfig(config);
  const model = buildDenseNet(config);
  try {
    const mapped = mapTorchvisionWeights(tensors, config, model, file, options.replaceClassifier);
    return { config, model, ...mapped, format, notes: readNotes };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** The config of the architecture in the file, or an error naming the layer that fits no variant. */
function configFromWeights(arch: DenseNetArchitecture, tensors: Map<string, { shape: number[] }>, file: string, options: TorchvisionSourceOptions): DenseNetConfig {
  if (arch.bnSize !== null && arch.bnSize !== 4) {
    throw new WorkbenchError(`${file} holds a DenseNet whose bottleneck convs make ${arch.bnSize}·k channels (torchvision's bn_size=${arch.bnSize}); the workbench builds 4·k, as the paper and torchvision's presets do.`);
  }
  const classes = options.classes ?? arch.classes;
  if (classes === null) throw new WorkbenchError(`${file} has no classifier (classifier.weight); give --data or --classes so the workbench can add one.`);
  const [h, w] = options.inputShape ?? (arch.stem === 'imagenet' ? [224, 224] : [32, 32]);
  if (options.inputShape && options.inputShape[2] !== arch.inputChannels) {
    throw new WorkbenchError(`${file} takes ${arch.inputChannels}-channel input (features.conv0.weight), but --input asks for ${options.inputShape[2]} channels.`);
  }
  const config: DenseNetConfig = {
    variant: matchingPreset(arch) ?? 'custom',
    blocks: arch.blocks,
    growthRate: arch.growthRate,
    bottleneck: arch.bottleneck,
    compression: arch.compression,
    initFeatures: arch.initFeatures,
    stem: arch.stem,
    dropRate: 0,
    inputShape: [h, w, arch.inputChannels],
    classes,
  };
  const bad = shapeMismatches(tensors, { ...config, inputChannels: arch.inputChannels });
  if (bad.length) {
    throw new WorkbenchError(
      `${file} holds a DenseNet (${describeDenseNet(arch)}) whose shapes fit no variant the workbench builds: ${bad[0]}${bad.length > 1 ? ` (and ${bad.length - 1} more layers)` : ''}.`,
    );
  }
  return config;
}
