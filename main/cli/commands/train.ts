import type { Command } from 'commander';
import { WorkbenchError } from '../../../shared/errors';
import { DEFAULT_DEMO_PRESET, getPreset } from '../../../shared/presets';
import { DeviceSchema, OptimizerSchema, PrecisionSchema, ScheduleSchema, TrainBackendSchema, TrainSettingsSchema, type DatasetSpec } from '../../../shared/training';
import { assertValidConfig } from '../../../shared/validation';
import { chooseInputShape, type ImageStats } from '../../../shared/dataset-input';
import { formatLr } from '../../../shared/format';
import { scanDataset } from '../../engine/data';
import { addArchitectureOptions, architectureOverrides, type ArchitectureFlags } from '../architecture-flags';
import { parseDatasetArg, parseInputShapeArg } from '../dataset-args';
import { driveRun } from '../drive';
import { addRunsOption, runsDirOf, type RunsFlags } from '../runs-option';
import type { DenseNetConfig } from '../../../shared/config';
import { addFineTuneOptions, type FineTuneFlags } from '../fine-tune-args';
import { describeStart, fineTuneRecipe, pretrainedSource, sourceConfig } from '../start-from-args';
import { allocateRunDir } from '../../engine/runs/run-store';
import { prepareRun } from '../../engine/pytorch/prepare';
import { PACKAGE_ROOT } from '../../engine/pytorch/detect';
import { chooseEngine, formatPyTorchDetection } from '../../engine/pytorch/select';
import { engineChannel } from '../../trainer/engine-channel';
import { forkTrainer } from '../../trainer/fork';
import { TrainerHost } from '../../trainer/host';

/**
 * `densenet-workbench train`: trains a DenseNet in a trainer process (main/trainer: the TF.js trainer,
 * or the PyTorch engine's Python trainer, which `--backend` and `auto` choose) and shows its progress. With no arguments it runs the demo: the demo-bc-tiny preset (DenseNet-BC) on
 * Fashion-MNIST with a short recipe sized for a 2-core CPU. Every flag left out keeps the paper's
 * recipe from shared/training.ts (SGD, Nesterov 0.9, wd 1e-4, lr ÷10 at 50% and 75%).
 */
interface TrainFlags extends ArchitectureFlags, RunsFlags, FineTuneFlags {
  startFrom?: string;
  pretrained?: string;
  checkpoint: string;
  /** The run store's old spelling. */
  out?: string;
  variant: string;
  data: string;
  input?: string;
  epochs?: string;
  batch?: string;
  lr?: string;
  schedule?: string;
  optimizer?: string;
  backend?: string;
  seed?: string;
  limit?: string;
  json?: boolean;
  name?: string;
  warmup?: string;
  labelSmoothing?: string;
  weightDecay?: string;
  valFraction?: string;
  memoryEfficient?: string;
  microBatch?: string;
  augment: boolean;
  device?: string;
  python?: string;
  nproc?: string;
  precision?: string;
  channelsLast?: boolean;
  syncBn?: boolean;
  prepareOnly?: boolean;
}

/**
 * The demo recipe, sized for the target (≥ 88% validation accuracy on Fashion-MNIST within
 * 10 minutes on a 2-core CPU): two epochs at batch 128 with a cosine schedule after a short
 * warm-up, no augmentation (it slows convergence this short). demo-bc-tiny trains at 300–500
 * images/s on the wasm backend with training kernels; see the README's "Training target".
 */
export const DEMO_RECIPE = { epochs: 2, batchSize: 128, lr: 0.1, schedule: 'cosine', warmupEpochs: 0.1, augment: { padCrop: false, flip: false } } as const;

export function parseNumber(text: string | undefined, flag: string, accepted: string, check: (v: number) => boolean): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !check(v)) throw new WorkbenchError(`${flag} must be ${accepted}; got "${text}".`);
  return v;
}

function parseEnum<T extends string>(text: string | undefined, flag: string, values: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!values.includes(text as T)) throw new WorkbenchError(`${flag} must be one of ${values.join(', ')}; got "${text}".`);
  return text as T;
}

/** The built-ins are 28×28 grayscale digits and garments, 10 classes. */
const BUILTIN_IMAGES: ImageStats & { classes: number } = { sizes: { '28x28': 0 }, modes: { gray: 1, color: 0 }, classes: 10 };

/**
 * What the dataset says about the model: its classes, and the sizes and colour modes that choose
 * the input when --input is not given. Headers are enough here; the trainer decodes every image
 * and says which files it skipped.
 */
async function datasetImages(spec: DatasetSpec): Promise<ImageStats & { classes: number }> {
  if (spec.kind === 'builtin') return BUILTIN_IMAGES;
  const report = await scanDataset(spec, { quick: true });
  if (report.errors.length > 0) throw new WorkbenchError(`Dataset ${report.root} cannot be trained on: ${report.errors.join(' ')}`);
  return { sizes: report.sizes, ...(report.modes ? { modes: report.modes } : {}), headersOnly: true, classes: report.classes.length };
}

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description('Train a DenseNet; with no arguments, the demo: a small DenseNet-BC on Fashion-MNIST.')
    .option('--variant <name>', 'a preset (see `variants`)', DEFAULT_DEMO_PRESET)
    .option('--data <dataset>', 'fashion-mnist, mnist, an image folder (one subfolder per class) or a path,label CSV', 'fashion-mnist')
    .option('--input <HxWxC>', 'input shape (default: from the images: their most common size, or the preset\'s, and their colour mode)')
    .option('--epochs <n>', 'epochs')
    .option('--batch <n>', 'batch size')
    .option('--lr <x>', 'base learning rate')
    .option('--schedule <name>', `learning-rate schedule: ${ScheduleSchema.options.join(', ')}`)
    .option('--optimizer <name>', `optimizer: ${OptimizerSchema.options.join(', ')}`)
    .option('--backend <name>', `backend: ${TrainBackendSchema.options.join(', ')} (pytorch: the PyTorch engine)`)
    .option('--seed <n>', 'seed of the split, initialisation, shuffling, augmentation and dropout')
    .option('--limit <n>', 'built-in datasets: use only the first N images (balanced over classes)')
    .option('--name <text>', 'a name for the run')
    .option('--warmup <epochs>', 'linear warm-up, in epochs')
    .option('--label-smoothing <x>', 'label smoothing in [0, 1)')
    .option('--weight-decay <x>', 'weight decay')
    .option('--val-fraction <x>', 'validation fraction when the data has no val split')
    .option('--memory-efficient <mode>', 'memory-efficient dense layers (recompute concatenation and BN-ReLU in the backward pass): auto (where the plain ones would not fit the wasm heap), on, off')
    .option('--micro-batch <n>', 'at most N images a forward/backward pass, gradients summed over the batch (0: only where nothing else fits)')
    .option('--no-augment', 'turn off pad-and-crop and flip augmentation')
    .option('--json', 'print one JSON event per line instead of a progress bar')
    .option('--start-from <run|file>', 'start from pretrained weights: another run (its id, name or folder), or a torchvision DenseNet .pth/.safetensors file')
    .option('--pretrained <name>', "start from torchvision's ImageNet weights: densenet121, densenet169, densenet201 or densenet161 (downloaded once into the torch hub cache)")
    .option('--checkpoint <which>', 'with --start-from RUN: its best or latest checkpoint, or one by name', 'best')
    .option('--device <name>', `PyTorch engine: ${DeviceSchema.options.join(', ')} (auto: a GPU when PyTorch has one)`)
    .option('--python <path>', 'PyTorch engine: the Python interpreter (default: found; see the README)')
    .option('--nproc <n>', 'PyTorch engine: processes on this machine, DistributedDataParallel through torchrun (the batch is split between them)')
    .option('--precision <name>', `PyTorch engine on a GPU: ${PrecisionSchema.options.join(', ')} (mixed precision)`)
    .option('--channels-last', 'PyTorch engine: the channels_last memory format')
    .option('--sync-bn', 'PyTorch engine with --nproc: batch norm over the whole batch (SyncBatchNorm, CUDA)')
    .option('--prepare-only', 'PyTorch engine: write the run folder with its dataset cache and stop; train it with `python3 -m densenet_torch --run RUN`');
  addFineTuneOptions(command);
  addArchitectureOptions(command);
  addRunsOption(command, { legacyOut: true });
  command.action(async (flags: TrainFlags, cmd: Command) => {
    const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    const demo = !given('variant') && !given('data');
    const limit = parseNumber(flags.limit, '--limit', 'a positive integer', (v) => Number.isInteger(v) && v > 0);
    const spec = parseDatasetArg(flags.data, limit);
    if (limit !== undefined && spec.kind !== 'builtin') throw new WorkbenchError(`--limit applies to mnist and fashion-mnist only; got --data ${flags.data}.`);
    const runsDir = runsDirOf(flags, flags.out);
    const architecture = architectureOverrides(flags);
    const images = await datasetImages(spec);
    const source = await pretrainedSource(flags, (name) => given(name), runsDir, Object.keys(architecture).length > 0);
    let model: DenseNetConfig;
    let choice: { reason: string } | null = null;
    if (source) {
      // The weights decide the architecture and, unless --input says otherwise, the input.
      const inputShape = flags.input ? parseInputShapeArg(flags.input) : source.info.inputShape;
      model = assertValidConfig(sourceConfig(source.info, inputShape, images.classes));
    } else {
      const base = getPreset(flags.variant, architecture);
      const chosen = flags.input ? null : chooseInputShape(images, base, base.inputShape);
      choice = chosen;
      const inputShape = flags.input ? parseInputShapeArg(flags.input) : chosen!.inputShape;
      model = assertValidConfig(getPreset(flags.variant, { ...architecture, inputShape, classes: images.classes }));
    }

    const raw: Record<string, unknown> = demo ? { ...DEMO_RECIPE } : {};
    const set = (key: string, value: unknown) => {
      if (value !== undefined) raw[key] = value;
    };
    set('epochs', parseNumber(flags.epochs, '--epochs', 'a positive integer', (v) => Number.isInteger(v) && v > 0));
    set('batchSize', parseNumber(flags.batch, '--batch', 'an integer in 1..4096', (v) => Number.isInteger(v) && v >= 1 && v <= 4096));
    set('lr', parseNumber(flags.lr, '--lr', 'a number in (0, 10]', (v) => v > 0 && v <= 10));
    set('schedule', parseEnum(flags.schedule, '--schedule', ScheduleSchema.options));
    set('optimizer', parseEnum(flags.optimizer, '--optimizer', OptimizerSchema.options));
    set('backend', parseEnum(flags.backend, '--backend', TrainBackendSchema.options));
    set('device', parseEnum(flags.device, '--device', DeviceSchema.options));
    set('precision', parseEnum(flags.precision, '--precision', PrecisionSchema.options));
    if (flags.channelsLast) raw.channelsLast = true;
    if (flags.syncBn) raw.syncBatchNorm = true;
    if (flags.python !== undefined) raw.python = flags.python;
    const nproc = parseNumber(flags.nproc, '--nproc', 'an integer in 1..64', (v) => Number.isInteger(v) && v >= 1 && v <= 64) ?? 1;
    if (flags.prepareOnly || nproc > 1) {
      if (raw.backend !== undefined && raw.backend !== 'pytorch') {
        throw new WorkbenchError(`${flags.prepareOnly ? '--prepare-only' : '--nproc'} is for the PyTorch engine; use --backend pytorch or leave --backend out, not --backend ${String(raw.backend)}.`);
      }
      raw.backend = 'pytorch';
    }
    set('seed', parseNumber(flags.seed, '--seed', 'an integer in 0..2147483647', (v) => Number.isInteger(v) && v >= 0 && v <= 2 ** 31 - 1));
    set('warmupEpochs', parseNumber(flags.warmup, '--warmup', 'a number ≥ 0', (v) => v >= 0));
    set('labelSmoothing', parseNumber(flags.labelSmoothing, '--label-smoothing', 'a number in [0, 1)', (v) => v >= 0 && v < 1));
    set('weightDecay', parseNumber(flags.weightDecay, '--weight-decay', 'a number in [0, 1]', (v) => v >= 0 && v <= 1));
    set('valFraction', parseNumber(flags.valFraction, '--val-fraction', 'a number in [0, 1)', (v) => v >= 0 && v < 1));
    set('memoryEfficient', parseEnum(flags.memoryEfficient, '--memory-efficient', ['auto', 'on', 'off'] as const));
    set('microBatch', parseNumber(flags.microBatch, '--micro-batch', 'an integer in 0..4096', (v) => Number.isInteger(v) && v >= 0 && v <= 4096));
    if (!flags.augment) raw.augment = { padCrop: false, flip: false };
    if (raw.optimizer === 'adam' || raw.optimizer === 'adamw') {
      // The paper's lr 0.1 is an SGD rate; Adam's usual default is 1e-3.
      if (raw.lr === undefined) raw.lr = 1e-3;
    }
    if (source) Object.assign(raw, fineTuneRecipe(flags, raw));
    const settings = TrainSettingsSchema.parse(raw);
    const name = flags.name ?? (demo ? 'demo' : undefined);

    if (flags.prepareOnly) {
      if (source || settings.fineTune) throw new WorkbenchError('--prepare-only prepares a run for the PyTorch engine, which does not run pretrained starts or the fine-tuning phases yet; leave out --start-from, --pretrained and the fine-tuning flags.');
      const runDir = allocateRunDir(runsDir, model.variant);
      const { config, cache } = await prepareRun({ runDir, ...(name ? { name } : {}), model, settings, dataset: spec, backend: { name: 'pytorch', prepared: true } });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ runId: config.id, runDir, samples: cache.samples, packageRoot: PACKAGE_ROOT })}\n`);
        return;
      }
      process.stdout.write([
        `Prepared run ${config.id} in ${runDir}: ${cache.samples} images of ${cache.inputShape.join('×')} decoded into its dataset cache.`,
        'Train it with the PyTorch engine, here or on any machine that has the folder (and torch):',
        `  PYTHONPATH=${PACKAGE_ROOT} python3 -m densenet_torch --run ${runDir}`,
        `  PYTHONPATH=${PACKAGE_ROOT} python3 -m densenet_torch.torchrun --nproc_per_node=N -m densenet_torch --run ${runDir}`,
        `or: densenet-workbench resume ${runDir}`,
      ].join('\n') + '\n');
      return;
    }

    const engine = await chooseEngine(settings, settings.python ? { python: settings.python } : {});
    if (nproc > 1 && engine.engine !== 'pytorch') throw new WorkbenchError('--nproc needs the PyTorch engine, which is not available here.');
    if (!flags.json && engine.detection?.python && engine.engine === 'pytorch') process.stdout.write(`${formatPyTorchDetection(engine.detection)}\n`);
    const host = new TrainerHost(engineChannel({ tfjs: () => forkTrainer(), settings, choice: engine, nproc }));
    try {
      await host.ready;
      const run = host.start({ runsDir, name, model, settings, dataset: spec, ...(source ? { startFrom: source.from } : {}) });
      if (!flags.json) {
        process.stdout.write(`${demo ? 'Demo: ' : ''}training ${model.variant} on ${flags.data} (${settings.epochs} epochs, batch ${settings.batchSize}, ${settings.optimizer} lr ${formatLr(settings.lr)}, ${settings.schedule}) as run ${run.runId}\n`);
        if (choice) process.stdout.write(`${choice.reason} Give --input to choose another.\n`);
        if (source) process.stdout.write(describeStart(source.info, model, settings));
      }
      await driveRun(host, run, { json: Boolean(flags.json), epochs: settings.epochs });
    } finally {
      await host.close();
    }
  });
}
