import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import { getPreset } from '../../../shared/presets';
import { defaultTrainSettings, TrainSettingsSchema, type DatasetSpec, type TrainSettings } from '../../../shared/training';
import { createRng, datasetFingerprint, scanDataset } from '../data';
import { SeedPurpose, streamSeed } from '../train/seeded';
import { buildDenseNet } from '../model/densenet';
import { writeCheckpoint, type NamedArray } from '../runs/checkpoint';
import { getModelWeights, setModelWeights } from '../train/model-weights';
import { initialRunState } from '../../../shared/run/state';
import { createRunAt, writeRunStatus, type NewRunConfig } from '../runs/run-store';
import { readPreprocessing, PREPROCESSING_FILE } from '../export/preprocessing';
import { loadLayersModelFromFiles } from '../export/tfjs-files';
import { loadTorchvisionSource } from './torchvision-source';
import { IMAGENET_NORMALIZATION } from './pretrained';
import { exportedPreprocessing } from './start-from';
import { freezeFeatureLayers } from './freeze';
import { writeImportRecord, type ImportRecord } from '../runs/import-record';
import { ensureBackend } from '../backend';


export interface ImportOptions {
  /** A torchvision DenseNet state dict: a torch.save .pth (zip or legacy) or .safetensors ... */
  weights?: string;
  /** ... or a TF.js Layers model.json (e.g. a workbench export). */
  tfjs?: string;
  /** Preset name; `auto` (default) reads the architecture off the weights. */
  variant?: string;
  /** Class count of the new run; when it differs from the weights', the classifier is re-initialized. */
  classes?: number;
  /** [H, W, C]; default the preset's input (224×224×3 for ImageNet), or the TF.js model's. */
  inputShape?: [number, number, number];
  /** A dataset (folder, .csv, mnist, fashion-mnist) the run will fine-tune on: sets classes and names. */
  data?: DatasetSpec;
  /** Freeze everything but `predictions` (layer.trainable = false). */
  freezeFeatures?: boolean;
  /** Training settings the run will resume with (defaults: the paper's recipe). */
  settings?: Partial<TrainSettings>;
  /** The run folder to create (must not exist). */
  out: string;
}

export interface ImportResult {
  runDir: string;
  config: DenseNetConfig;
  headReplaced: boolean;
  ignored: string[];
  /** How the weights were read and the variant chosen, as sentences for the user. */
  notes: string[];
  trainableParams: number;
  totalParams: number;
}

/**
 * Creates a run folder from pretrained weights: config.json, a step-0 checkpoint and a `stopped`
 * status, so the Training engine can continue it (`resume`) like any stopped run, and export,
 * inspect and predict work on it at once.
 */
export async function importRun(options: ImportOptions): Promise<ImportResult> {
  if (Boolean(options.weights) === Boolean(options.tfjs)) {
    throw new WorkbenchError('Import needs exactly one source: --weights FILE (.pth or .safetensors) or --tfjs model.json.');
  }
  if (fs.existsSync(options.out)) throw new WorkbenchError(`The run folder ${path.resolve(options.out)} already exists; choose a new --out.`);
  if (options.classes !== undefined && (!Number.isInteger(options.classes) || options.classes < 2)) {
    throw new WorkbenchError(`--classes must be a whole number ≥ 2; got ${options.classes}.`);
  }
  const dataset = options.data ? await describeDataset(options.data, options.inputShape) : null;
  // Import only moves weights: where no backend runs yet, the pure-JS one is enough and always present.
  await ensureBackend('cpu');
  if (dataset && options.classes !== undefined && options.classes !== dataset.classes.length) {
    throw new WorkbenchError(`--classes ${options.classes} disagrees with the ${dataset.classes.length} classes of ${datasetLabel(options.data!)}; leave --classes out.`);
  }
  const wantedClasses = dataset?.classes.length ?? options.classes;

  let config: DenseNetConfig;
  let weights: NamedArray[];
  let headReplaced = false;
  let ignored: string[] = [];
  let classNames: string[] | null = null;
  let normalization: NewRunConfig['normalization'] = null;
  let model: tf.LayersModel;
  let notes: string[] = [];
  let kind: ImportRecord['kind'] = 'tfjs-layers';
  if (options.weights) {
    let format: string;
    // A workbench export (export --format torchvision) says what input and normalization it was trained with.
    const exported = exportedPreprocessing(options.weights);
    const exportedInput = exported ? ([exported.input.height, exported.input.width, exported.input.channels] as [number, number, number]) : undefined;
    ({ config, model, weights, headReplaced, ignored, notes, format } = await loadTorchvisionSource(options.weights, {
      variant: options.variant,
      inputShape: options.inputShape ?? exportedInput,
      classes: wantedClasses,
      // An export names its classes: other classes of the same count still get a new classifier.
      replaceClassifier: Boolean(exported && dataset && exported.classes.join('\n') !== dataset.classes.join('\n')),
    }));
    kind = format === 'safetensors' ? 'torchvision-safetensors' : 'torchvision-pth';
    // Porting note: torchvision's pretrained DenseNets expect inputs normalized with the ImageNet
    // channel statistics (torchvision.transforms.Normalize in its weights' transforms), so an
    // imported RGB run keeps them rather than computing its own from the new dataset.
    if (exported) normalization = exported.normalization;
    else if (config.inputShape[2] === 3) normalization = IMAGENET_NORMALIZATION;
  } else {
    ({ model, config, classNames, normalization } = await tfjsSource(options.tfjs!, options.variant, options.inputShape));
    const loadedWeights = getModelWeights(model);
    model.dispose();
    if (wantedClasses !== undefined && wantedClasses !== config.classes) {
      config = { ...config, classes: wantedClasses };
      headReplaced = true;
      classNames = null;
    }
    model = buildDenseNet(config);
    weights = loadedWeights.filter((w) => !(headReplaced && w.name.startsWith('predictions/')));
    if (headReplaced) weights.push(...getModelWeights(model).filter((w) => w.name.startsWith('predictions/')));
  }

  try {
    try {
      setModelWeights(model, weights);
    } catch (err) {
      if (!(err instanceof WorkbenchError)) throw err;
      throw new WorkbenchError(`${options.weights ?? options.tfjs} does not fit variant ${config.variant}. ${err.message}`);
    }
    // Fresh optimizer state for every weight that trains when nothing is frozen: what the Training
    // engine's optimizer starts from, so `resume` restores it like any checkpoint (setState wants
    // every slot), frozen or not.
    const parsed = TrainSettingsSchema.safeParse({ ...defaultTrainSettings(), ...options.settings });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new WorkbenchError(`Training setting ${issue.path.join('.')} is invalid: ${issue.message}.`);
    }
    const settings = parsed.data;
    const slots = zeroSlots(model, settings.optimizer);
    if (options.freezeFeatures) freezeFeatureLayers(model);
    const classes = dataset?.classes ?? classNames ?? Array.from({ length: config.classes }, (_, i) => `class_${i}`);
    const source = path.resolve(options.weights ?? options.tfjs!);
    const run = createRunAt(options.out, {
      name: `${config.variant} imported from ${path.basename(source)}`,
      model: config,
      settings,
      dataset: dataset ? { ...dataset.record, inputShape: config.inputShape } : {
        // Porting note: an imported run may not have a dataset yet; the record says so in words
        // and sizes of 0, and `train`/`resume` with --data binds one.
        spec: { kind: 'folder', path: '(none: imported weights, give --data to train)' },
        name: 'none (imported)',
        fingerprint: 'none',
        classes,
        inputShape: config.inputShape,
        trainSize: 0,
        valSize: 0,
      },
      normalization,
      seed: settings.seed,
      backend: { name: 'none', note: 'imported; no training yet' },
    });
    writeCheckpoint(run.dir, {
      step: 0, epoch: 0, epochStep: 0, stepsPerEpoch: 1, lr: settings.lr, reason: 'snapshot',
      metrics: { loss: null, accuracy: null, valLoss: null, valAccuracy: null }, best: null,
      optimizer: { name: settings.optimizer, iterations: 0 },
      // The data RNG state a new run starts epoch 0 with (main/engine/train/dataset-source.ts).
      rng: createRng(streamSeed(settings.seed, SeedPurpose.data)).getState().map((v) => v >>> 0),
      earlyStopping: { best: null, badEpochs: 0 },
      weights: getModelWeights(model), slots,
    }, { keep: settings.keepCheckpoints });
    const record: ImportRecord = {
      format: 1,
      source,
      kind,
      headReplaced,
      freezeFeatures: Boolean(options.freezeFeatures),
      ignoredKeys: ignored,
    };
    writeImportRecord(run.dir, record);
    // A stopped run at step 0: `resume` continues it like any run the user stopped.
    writeRunStatus(run.dir, {
      ...initialRunState(run.id, settings.epochs), status: 'finished', reason: 'stopped',
      message: `Imported from ${source}${headReplaced ? ' with a new classifier' : ''}; not trained yet.`,
    }, { pid: null, epochs: settings.epochs });
    const count = (ws: tf.LayerVariable[]) => ws.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
    return { runDir: run.dir, config, headReplaced, ignored, notes, trainableParams: count(model.trainableWeights), totalParams: count(model.weights) };
  } finally {
    model.dispose();
  }
}

const SLOT_NAMES: Record<string, string[]> = { sgd: ['momentum'], adam: ['m', 'v'], adamw: ['m', 'v'] };

function zeroSlots(model: tf.LayersModel, optimizer: string): NamedArray[] {
  return model.trainableWeights.flatMap((w) =>
    SLOT_NAMES[optimizer].map((slot) => {
      const shape = w.shape as number[];
      return { name: `${w.originalName}/${slot}`, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
    }),
  );
}

async function tfjsSource(file: string, variant: string | undefined, inputShape: [number, number, number] | undefined) {
  const model = await loadLayersModelFromFiles(file);
  const dir = fs.statSync(file).isDirectory() ? file : path.dirname(file);
  if (fs.existsSync(path.join(dir, PREPROCESSING_FILE))) {
    // A workbench export: its preprocessing.json carries the exact config, classes and normalization.
    const pre = readPreprocessing(dir);
    return { model, config: pre.config, classNames: pre.classes, normalization: pre.normalization };
  }
  if (!variant || variant === 'auto') {
    model.dispose();
    throw new WorkbenchError(`${file} has no ${PREPROCESSING_FILE} beside it, so its architecture is unknown; give --variant (e.g. densenet121).`);
  }
  const [, h, w, c] = model.inputs[0].shape as number[];
  const config = getPreset(variant, { inputShape: inputShape ?? [h, w, c], classes: model.outputs[0].shape[1] as number });
  return { model, config, classNames: null, normalization: null };
}

/** How the user named the dataset: the built-in's name or the path they gave. */
function datasetLabel(spec: DatasetSpec): string {
  return spec.kind === 'builtin' ? spec.name : spec.path;
}

async function describeDataset(spec: DatasetSpec, inputShape: [number, number, number] | undefined) {
  const arg = datasetLabel(spec);
  const report = await scanDataset(spec, { inputShape });
  if (report.errors.length) throw new WorkbenchError(`Dataset ${arg} cannot be used: ${report.errors.join(' ')}`);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    classes: report.classes,
    record: {
      spec,
      name: path.basename(report.root),
      fingerprint: await datasetFingerprint(spec),
      classes: report.classes,
      inputShape: inputShape ?? ([32, 32, 3] as [number, number, number]),
      trainSize: sum(report.splits.train),
      valSize: sum(report.splits.val),
    },
  };
}
