import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { PretrainedCatalog } from '../../../shared/api';
import type { DenseNetConfig } from '../../../shared/config';
import { findPreset, getPreset } from '../../../shared/presets';
import type { PretrainedName, StartFrom, WeightsSourceInfo } from '../../../shared/start-from';
import { FineTuneSchema } from '../../../shared/training';
import { api } from '../api/current';
import { useSetupStore } from './setup';

/**
 * "Start from" on the New run screen: scratch, torchvision's ImageNet weights (downloaded into the
 * torch hub cache, with progress), a weights file, or another run's checkpoint. Choosing a source
 * asks the host what it holds and makes the form follow it: the architecture of the weights, the
 * input they were trained at (ImageNet weights: 224×224×3), the dataset's classes (the classifier
 * is replaced when they differ) and the fine-tune recipe.
 */
export type StartFromChoice = 'scratch' | 'imagenet' | 'file' | 'run';

const ARCH_FIELDS = ['blocks', 'growthRate', 'bottleneck', 'compression', 'initFeatures', 'stem'] as const;
const FIELD_LABELS: Record<(typeof ARCH_FIELDS)[number], string> = {
  blocks: 'blocks', growthRate: 'growth rate k', bottleneck: 'bottleneck', compression: 'compression θ', initFeatures: 'initial features', stem: 'stem',
};

/** Fine-tuning defaults a pretrained start switches the form to (the paper's lr 0.1 is for training from scratch). */
export const FINE_TUNE_RECIPE = { lr: 0.01, schedule: 'cosine' as const, headEpochs: 3, epochs: 10 };

export const useStartFromStore = defineStore('startFrom', () => {
  const choice = ref<StartFromChoice>('scratch');
  const pretrained = ref<PretrainedName>('densenet121');
  const file = ref('');
  const run = ref('');
  const checkpoint = ref<'best' | 'latest'>('best');
  const catalog = shallowRef<PretrainedCatalog | null>(null);
  /** What the chosen source holds, once the host has read it. */
  const info = shallowRef<WeightsSourceInfo | null>(null);
  const describing = ref(false);
  const error = ref<string | null>(null);
  /** A download in progress: bytes so far and in all (null until the server says). */
  const download = ref<{ name: string; received: number; total: number | null } | null>(null);
  /** The weights file the source resolves to (ImageNet weights: the cached download). */
  const resolvedFile = ref<string | null>(null);

  /** What startRun is sent; undefined for scratch or while the source is not ready. */
  const request = computed<StartFrom | undefined>(() => {
    if (choice.value === 'scratch' || !info.value) return undefined;
    if (choice.value === 'run') return { kind: 'run', run: run.value, checkpoint: checkpoint.value };
    return resolvedFile.value ? { kind: 'weights', file: resolvedFile.value } : undefined;
  });

  /** Sentences on what keeps the run from starting from the source as the form stands. */
  const problems = computed<string[]>(() => {
    if (choice.value === 'scratch') return [];
    if (!info.value) return [describing.value || download.value ? 'Wait until the weights are ready.' : 'Choose the weights to start from.'];
    const setup = useSetupStore();
    const differ = ARCH_FIELDS.filter((k) => JSON.stringify(setup.config[k]) !== JSON.stringify(info.value!.architecture[k])).map((k) => FIELD_LABELS[k]);
    const out: string[] = [];
    if (differ.length) out.push(`The architecture differs from the weights' in ${differ.join(', ')}.`);
    if (setup.config.inputShape[2] !== info.value.inputShape[2]) out.push(`The weights take ${info.value.inputShape[2]}-channel input; the form has ${setup.config.inputShape[2]}.`);
    return out;
  });

  /**
   * True when the dataset's classes replace the weights' classifier: another count, or, when the
   * source names its classes and the scan has named the dataset's, other classes (as the trainer decides).
   */
  const replacesClassifier = computed(() => {
    const setup = useSetupStore();
    if (!info.value) return false;
    if (info.value.classes !== setup.config.classes) return true;
    const names = setup.scan?.classes;
    return Boolean(info.value.classNames && names && names.join('\n') !== info.value.classNames.join('\n'));
  });

  async function loadCatalog() {
    try {
      catalog.value = await api().listPretrained();
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    }
  }

  function reset() {
    info.value = null;
    resolvedFile.value = null;
    error.value = null;
  }

  async function describe(source: Exclude<StartFrom, { kind: 'scratch' }>) {
    describing.value = true;
    error.value = null;
    try {
      const described = await api().describeWeights(source);
      if (source.kind === 'weights') resolvedFile.value = source.file;
      info.value = described;
      adopt(described);
    } catch (err) {
      info.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      describing.value = false;
    }
  }

  /** Downloads the chosen ImageNet weights (or finds them in the cache), then reads them. */
  async function fetchPretrained() {
    const name = pretrained.value;
    reset();
    download.value = { name, received: 0, total: null };
    const off = api().onEvent((e) => {
      if (e.type === 'weightsDownload' && e.name === name && download.value) download.value = { name, received: e.received, total: e.total };
    });
    try {
      const result = await api().downloadPretrained({ name });
      download.value = null;
      await loadCatalog();
      await describe({ kind: 'weights', file: result.file });
    } catch (err) {
      download.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      off();
    }
  }

  /** The form follows the source: its architecture and input, the fine-tune recipe, the dataset's classes. */
  function adopt(source: WeightsSourceInfo) {
    const setup = useSetupStore();
    const preset = findPreset(source.variant) ? source.variant : null;
    const arch = { ...source.architecture, blocks: [...source.architecture.blocks] };
    const classes = setup.scan && setup.scan.classes.length >= 2 ? setup.scan.classes.length : setup.config.classes;
    const config: DenseNetConfig = preset
      ? getPreset(preset, { inputShape: source.inputShape, classes, dropRate: 0 })
      : { ...setup.config, ...arch, variant: 'custom', inputShape: source.inputShape, classes, dropRate: 0 };
    if (preset) setup.preset = preset;
    setup.config = config;
    setup.pretrainedInput = [...source.inputShape] as [number, number, number];
    setup.inputChoice = `Input ${source.inputShape.join('×')}, as the pretrained weights were trained; the images are resized and converted to it.`;
    const epochs = Math.max(setup.settings.epochs, FINE_TUNE_RECIPE.epochs);
    setup.settings = {
      ...setup.settings,
      epochs,
      lr: FINE_TUNE_RECIPE.lr,
      schedule: FINE_TUNE_RECIPE.schedule,
      fineTune: setup.settings.fineTune ?? FineTuneSchema.parse({ headEpochs: FINE_TUNE_RECIPE.headEpochs }),
    };
  }

  /** Back to scratch: the recipe goes, the architecture stays as it is. */
  watch(choice, (c) => {
    reset();
    const setup = useSetupStore();
    setup.pretrainedInput = null;
    if (c === 'scratch') setup.settings = { ...setup.settings, fineTune: null };
  });

  return {
    choice, pretrained, file, run, checkpoint, catalog, info, describing, error, download, resolvedFile, request, problems, replacesClassifier,
    loadCatalog, describe, fetchPretrained, reset,
  };
});
