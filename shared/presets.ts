/**
 * Named DenseNet variants: torchvision's ImageNet models, the paper's CIFAR networks (Table 2) and
 * small demos that train quickly on 28×28 grayscale images (MNIST, Fashion-MNIST).
 * Names are stable kebab-case ids: they are stored in runs' config.json and typed on the CLI.
 */
import type { DenseNetConfig } from './config';
import { WorkbenchError } from './errors';

export type PresetFamily = 'imagenet' | 'cifar' | 'demo';

export interface PresetOptions {
  /** [H, W, C]; defaults to the family's usual input (224×224×3, 32×32×3, 28×28×1). */
  inputShape?: [number, number, number];
  /** Defaults to 1000 for ImageNet presets, 10 otherwise. */
  classes?: number;
}

export interface Preset {
  name: string;
  /** The paper's or torchvision's title, e.g. `DenseNet-BC (L=100, k=12)`. */
  title: string;
  description: string;
  family: PresetFamily;
  config(options?: PresetOptions): DenseNetConfig;
}

/** Overrides accepted by getPreset: the input and classes, or any architecture field (custom configs). */
export type PresetOverrides = PresetOptions & Partial<Omit<DenseNetConfig, 'variant' | 'inputShape' | 'classes'>>;

type Architecture = Pick<DenseNetConfig, 'blocks' | 'growthRate' | 'bottleneck' | 'compression' | 'initFeatures' | 'stem'>;

const FAMILY_DEFAULTS: Record<PresetFamily, { inputShape: [number, number, number]; classes: number }> = {
  imagenet: { inputShape: [224, 224, 3], classes: 1000 },
  cifar: { inputShape: [32, 32, 3], classes: 10 },
  demo: { inputShape: [28, 28, 1], classes: 10 },
};

function preset(name: string, title: string, family: PresetFamily, description: string, arch: Architecture): Preset {
  return {
    name,
    title,
    description,
    family,
    config: (options = {}) => ({
      variant: name,
      ...arch,
      blocks: [...arch.blocks],
      dropRate: 0,
      inputShape: [...(options.inputShape ?? FAMILY_DEFAULTS[family].inputShape)] as [number, number, number],
      classes: options.classes ?? FAMILY_DEFAULTS[family].classes,
    }),
  };
}

/** ImageNet DenseNets (paper Table 1, torchvision `densenet121()` …): k=32, 64 initial features, B and θ=0.5. */
const imagenet = (depth: number, blocks: number[], growthRate = 32, initFeatures = 64): Preset =>
  preset(`densenet${depth}`, `DenseNet-${depth}`, 'imagenet', `ImageNet DenseNet-BC, k=${growthRate}, blocks ${blocks.join('-')} (paper Table 1; torchvision densenet${depth}).`, {
    blocks, growthRate, bottleneck: true, compression: 0.5, initFeatures, stem: 'imagenet',
  });

/**
 * The paper's CIFAR networks (§3 "Implementation Details", Table 2): three blocks of equal depth.
 * The depth L counts the conv layers plus the stem, two transitions and the classifier, so a block
 * has (L−4)/3 layers, or (L−4)/6 with bottlenecks (two convs a layer). Without B and C the stem has
 * 16 channels; DenseNet-BC uses 2k and θ=0.5.
 */
function cifar(depth: number, growthRate: number, bc: boolean, note = ''): Preset {
  const layers = bc ? (depth - 4) / 6 : (depth - 4) / 3;
  const title = `${bc ? 'DenseNet-BC' : 'DenseNet'} (L=${depth}, k=${growthRate})`;
  return preset(`densenet-${bc ? 'bc-' : ''}${depth}-${growthRate}`, title, 'cifar', `CIFAR ${title}: 3 blocks of ${layers} layers${bc ? ', bottleneck, θ=0.5' : ''}.${note}`, {
    blocks: [layers, layers, layers],
    growthRate,
    bottleneck: bc,
    compression: bc ? 0.5 : 1,
    initFeatures: bc ? 2 * growthRate : 16,
    stem: 'cifar',
  });
}

/** Small DenseNet-BCs for 28×28 grayscale: CIFAR stem, three short blocks at 28, 14 and 7 pixels. */
const demo = (name: string, title: string, description: string, blocks: number[], growthRate: number): Preset =>
  preset(name, title, 'demo', description, { blocks, growthRate, bottleneck: true, compression: 0.5, initFeatures: 2 * growthRate, stem: 'cifar' });

export const PRESETS: readonly Preset[] = Object.freeze([
  imagenet(121, [6, 12, 24, 16]),
  imagenet(169, [6, 12, 32, 32]),
  imagenet(201, [6, 12, 48, 32]),
  imagenet(264, [6, 12, 64, 48]),
  imagenet(161, [6, 12, 36, 24], 48, 96),
  cifar(40, 12, false),
  cifar(100, 12, false),
  cifar(100, 24, false),
  cifar(40, 12, true, ' Not in the paper’s Table 2; the throughput benchmark network.'),
  cifar(100, 12, true),
  cifar(250, 24, true),
  cifar(190, 40, true),
  demo('demo-bc-tiny', 'Demo DenseNet-BC tiny', 'About 20 k parameters and 6.7 M multiply-adds at 28×28×1: the default for MNIST and Fashion-MNIST on a CPU.', [2, 2, 2], 8),
  demo('demo-bc-small', 'Demo DenseNet-BC small', 'About 100 k parameters and 33 M multiply-adds at 28×28×1: more accurate, about 5× slower than demo-bc-tiny.', [4, 4, 4], 12),
]);

/** The preset a new run on MNIST or Fashion-MNIST starts with. */
export const DEFAULT_DEMO_PRESET = 'demo-bc-tiny';

export function presetNames(): string[] {
  return PRESETS.map((p) => p.name);
}

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}

/**
 * The config of a preset, with the input, classes or architecture fields overridden. Changing an
 * architecture field makes the variant `custom`, so a run never claims to be a preset it is not;
 * input, classes and dropRate (a regularizer: the paper trains the same nets with and without it)
 * keep the preset's name.
 * The result is not validated here: pass it to validateConfig or assertValidConfig.
 */
export function getPreset(name: string, overrides: PresetOverrides = {}): DenseNetConfig {
  const found = findPreset(name);
  if (!found) throw new WorkbenchError(`Unknown variant ${JSON.stringify(name)}; valid variants are ${presetNames().join(', ')}.`);
  const { inputShape, classes, ...arch } = overrides;
  const config = found.config({ inputShape, classes });
  const changed = (Object.keys(arch) as (keyof typeof arch)[]).filter(
    (key) => arch[key] !== undefined && JSON.stringify(arch[key]) !== JSON.stringify(config[key]),
  );
  const merged = { ...config } as Record<string, unknown>;
  for (const key of changed) merged[key] = Array.isArray(arch[key]) ? [...(arch[key] as number[])] : arch[key];
  const custom = changed.some((key) => key !== 'dropRate');
  return { ...(merged as unknown as DenseNetConfig), variant: custom ? 'custom' : config.variant };
}
