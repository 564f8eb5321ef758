import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { ScanResult } from '../../../shared/api';
import { summarize, type ArchitectureSummary } from '../../../shared/architecture/summary';
import type { ConfigProblem, DenseNetConfig } from '../../../shared/config';
import { chooseInputShape } from '../../../shared/dataset-input';
import type { StartFrom } from '../../../shared/start-from';
import { DEFAULT_DEMO_PRESET, getPreset } from '../../../shared/presets';
import { defaultTrainSettings, type DatasetSpec, type TrainSettings } from '../../../shared/training';
import { validateSettings } from '../../../shared/training-validation';
import { validateConfig } from '../../../shared/validation';
import { api } from '../api/current';
import { useAppStore } from './app';
import { useSessionStore } from './session';
import { loadSetup, saveSetup } from './setup-persist';

/**
 * The New-run form: dataset, architecture and training settings. The architecture is validated
 * and summarized on every edit, renderer-side (shared/ is pure TS), so feedback is instant.
 */
export const useSetupStore = defineStore('setup', () => {
  // A reload keeps the form (./setup-persist.ts validates what it reads back).
  const saved = loadSetup();
  const dataset = ref<DatasetSpec>(saved.dataset ?? { kind: 'builtin', name: 'fashion-mnist', limit: 2000 });
  const scan = shallowRef<ScanResult | null>(null);
  const scanning = ref(false);
  const scanError = ref<string | null>(null);
  const preset = ref(saved.preset ?? DEFAULT_DEMO_PRESET);
  const config = ref<DenseNetConfig>(saved.config ?? getPreset(DEFAULT_DEMO_PRESET, { inputShape: [28, 28, 1], classes: 10 }));
  const settings = ref<TrainSettings>(saved.settings ?? { ...defaultTrainSettings(), epochs: 3, batchSize: 32 });
  const name = ref(saved.name ?? '');
  const starting = ref(false);
  watch([dataset, preset, config, settings, name], () => {
    saveSetup({ dataset: dataset.value, preset: preset.value, config: config.value, settings: settings.value, name: name.value });
  }, { deep: true });
  /** What the last scan chose for the input and why, shown beside the input fields. */
  const inputChoice = ref<string | null>(null);
  /**
   * The input pretrained weights were trained at (stores/start-from.ts sets it): a scan keeps it
   * rather than choosing one from the images, which are resized and converted to it.
   */
  const pretrainedInput = ref<[number, number, number] | null>(null);

  const problems = computed<ConfigProblem[]>(() => validateConfig(config.value));
  /** The training fields, checked live like the model's (a start the host would refuse is never sent). */
  const settingsProblems = computed<ConfigProblem[]>(() => validateSettings(settings.value));
  const settingProblemOf = (field: string) => settingsProblems.value.find((p) => p.field === field)?.message;
  const summary = computed<ArchitectureSummary | null>(() => {
    if (problems.value.length) return null;
    try {
      return summarize(config.value);
    } catch {
      return null;
    }
  });
  const problemOf = (field: string) => problems.value.find((p) => p.field === field || p.field.startsWith(`${field}[`))?.message;

  function applyPreset(nameOf: string) {
    preset.value = nameOf;
    const keep = { inputShape: config.value.inputShape, classes: config.value.classes, dropRate: config.value.dropRate };
    const kept = getPreset(nameOf, keep);
    // An ImageNet net cannot take 28×28 images (too many downsamplings): then use the preset's own input.
    config.value = validateConfig(kept).some((p) => p.field.startsWith('inputShape')) ? getPreset(nameOf, { classes: keep.classes, dropRate: keep.dropRate }) : kept;
  }

  /** A custom edit of one architecture field; the variant becomes `custom` when it departs from the preset. */
  function edit<K extends keyof DenseNetConfig>(key: K, value: DenseNetConfig[K]) {
    const next = { ...config.value, [key]: value };
    try {
      const { variant: _v, ...arch } = next;
      const base = preset.value;
      config.value = getPreset(base, arch);
    } catch {
      config.value = { ...next, variant: 'custom' };
    }
  }

  async function runScan() {
    scanning.value = true;
    scanError.value = null;
    try {
      const result = await api().scanDataset({ dataset: dataset.value, inputShape: config.value.inputShape, thumbnailsPerClass: 4 });
      scan.value = result;
      // The dataset decides the classes and the input (channels and size); the model follows.
      if (result.classes.length >= 2 && result.classes.length !== config.value.classes) edit('classes', result.classes.length);
      if (result.classes.length > 0 && pretrainedInput.value) {
        inputChoice.value = `Input ${pretrainedInput.value.join('×')}, as the pretrained weights were trained; the images are resized and converted to it.`;
      } else if (result.classes.length > 0) {
        const choice = chooseInputShape(result, config.value, getPreset(preset.value).inputShape);
        if (choice.inputShape.join('x') !== config.value.inputShape.join('x')) edit('inputShape', choice.inputShape);
        inputChoice.value = choice.reason;
      }
    } catch (err) {
      scan.value = null;
      scanError.value = err instanceof Error ? err.message : String(err);
    } finally {
      scanning.value = false;
    }
  }

  watch(dataset, () => {
    scan.value = null;
    inputChoice.value = null;
  }, { deep: true });

  const canStart = computed(() => !starting.value && problems.value.length === 0 && settingsProblems.value.length === 0 && (scan.value === null || scan.value.errors.length === 0));

  /** Starts the run; `startFrom` names pretrained weights to start from (stores/start-from.ts). */
  async function start(startFrom?: StartFrom): Promise<string | null> {
    const app = useAppStore();
    const session = useSessionStore();
    starting.value = true;
    try {
      const { runId } = await api().startRun({ name: name.value || undefined, model: config.value, settings: settings.value, dataset: dataset.value, ...(startFrom ? { startFrom } : {}) });
      session.reset(runId);
      session.model = config.value;
      session.settings = settings.value;
      session.dataset = dataset.value;
      session.classes = scan.value?.classes ?? [];
      session.info = null;
      session.expect(runId, settings.value.epochs);
      app.go('dashboard');
      return runId;
    } catch (err) {
      app.report(err);
      return null;
    } finally {
      starting.value = false;
    }
  }

  return { dataset, scan, scanning, scanError, preset, config, settings, name, starting, inputChoice, pretrainedInput, problems, settingsProblems, settingProblemOf, summary, problemOf, applyPreset, edit, runScan, canStart, start };
});
