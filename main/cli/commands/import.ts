import type { Command } from 'commander';
import { WorkbenchError } from '../../../shared/errors';
import { defaultTrainSettings } from '../../../shared/training';
import { parseDatasetArg, parseInputShapeArg } from '../dataset-args';
import { importRun } from '../../engine/import/import-run';
import { fetchCheckpoint, findPretrained } from '../../engine/import/pretrained';
import { downloadBar } from '../download-progress';
import { addFineTuneOptions, fineTuneFromFlags, type FineTuneFlags } from '../fine-tune-args';

/**
 * `densenet-workbench import --weights FILE.pth|FILE.safetensors [--variant densenet121]
 * [--classes N] [--freeze-features] --out RUN` (or `--pretrained densenet121`, downloaded into the
 * torch hub cache first, or `--tfjs model.json`): a new run holding pretrained weights.
 */
interface ImportFlags extends FineTuneFlags {
  weights?: string;
  pretrained?: string;
  tfjs?: string;
  variant: string;
  classes?: string;
  input?: string;
  data?: string;
  freezeFeatures?: boolean;
  epochs?: string;
  lr?: string;
  batchSize?: string;
  out: string;
}

function positive(text: string | undefined, flag: string, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new WorkbenchError(`${flag} must be a positive ${integer ? 'whole number' : 'number'}; got "${text}".`);
  }
  return v;
}

export function registerImport(program: Command): void {
  const command = program
    .command('import')
    .description('Create a run from torchvision DenseNet weights (.pth or .safetensors, or ImageNet weights by name) or a TF.js model.json, to inspect, export or fine-tune.')
    .option('--weights <file>', 'a torchvision DenseNet state dict: a torch.save .pth/.pt file or .safetensors')
    .option('--pretrained <name>', "torchvision's ImageNet weights: densenet121, densenet169, densenet201 or densenet161 (downloaded once into the torch hub cache)")
    .option('--tfjs <model.json>', 'a TF.js Layers model.json (e.g. a workbench export)')
    .option('--variant <name>', 'preset the weights are (densenet121, densenet169, ...), or auto to read it off the weights', 'auto')
    .option('--classes <n>', 'classes of the new run; a different count replaces the classifier with a fresh one')
    .option('--input <HxWxC>', 'input shape of the new run (default 224x224x3 for ImageNet variants)')
    .option('--data <dataset>', 'the dataset to fine-tune on (folder, .csv, mnist, fashion-mnist): sets classes and their names')
    .option('--freeze-features', 'train only the classifier: every other layer gets trainable = false')
    .option('--epochs <n>', 'epochs the fine-tuning run will train (resume it with train/resume)')
    .option('--lr <x>', 'initial learning rate of the fine-tuning run')
    .option('--batch-size <n>', 'batch size of the fine-tuning run')
    .requiredOption('--out <run>', 'the run folder to create');
  addFineTuneOptions(command).action(async (flags: ImportFlags) => {
      let classes: number | undefined;
      if (flags.classes !== undefined) {
        classes = Number(flags.classes);
        if (!Number.isInteger(classes) || classes < 2) throw new WorkbenchError(`--classes must be a whole number ≥ 2; got "${flags.classes}".`);
      }
      const settings = {
        ...(flags.epochs !== undefined ? { epochs: positive(flags.epochs, '--epochs', true) } : {}),
        ...(flags.lr !== undefined ? { lr: positive(flags.lr, '--lr', false) } : {}),
        ...(flags.batchSize !== undefined ? { batchSize: positive(flags.batchSize, '--batch-size', true) } : {}),
      };
      const fineTune = fineTuneFromFlags(flags, settings.epochs ?? defaultTrainSettings().epochs);
      if (fineTune && flags.freezeFeatures) throw new WorkbenchError('--freeze-features trains only the classifier for the whole run; --head-epochs does so for the first epochs only. Give one of them.');
      if (flags.pretrained !== undefined && (flags.weights !== undefined || flags.tfjs !== undefined)) {
        throw new WorkbenchError('Give one source: --pretrained NAME, --weights FILE or --tfjs model.json.');
      }
      let weights = flags.weights;
      let variant = flags.variant;
      if (flags.pretrained !== undefined) {
        const pre = findPretrained(flags.pretrained);
        if (variant !== 'auto' && variant !== pre.name) throw new WorkbenchError(`--pretrained ${pre.name} holds ${pre.name}; leave --variant out or give --variant ${pre.name}.`);
        variant = pre.name;
        const bar = downloadBar(`Downloading ${pre.fileName}`);
        try {
          weights = (await fetchCheckpoint(pre.name, { onProgress: bar.onProgress })).file;
        } finally {
          bar.stop();
        }
      }
      const result = await importRun({
        weights,
        tfjs: flags.tfjs,
        variant,
        classes,
        inputShape: flags.input ? parseInputShapeArg(flags.input) : undefined,
        data: flags.data !== undefined ? parseDatasetArg(flags.data) : undefined,
        freezeFeatures: Boolean(flags.freezeFeatures),
        settings: fineTune ? { ...settings, fineTune } : settings,
        out: flags.out,
      });
      const c = result.config;
      process.stdout.write(
        result.notes.map((n) => `${n}\n`).join('') +
        `Imported ${c.variant} (blocks [${c.blocks.join(', ')}], k=${c.growthRate}, input ${c.inputShape.join('×')}, ${c.classes} classes) into ${result.runDir}.\n` +
          (result.headReplaced ? 'The classifier was re-initialized for the new class count.\n' : '') +
          (fineTune ? `Fine-tuning in two phases: the classifier alone for ${fineTune.headEpochs} epochs, then every layer at the learning rate × ${fineTune.lrFactor}; \`resume\` the run to train it.\n` : '') +
          (flags.freezeFeatures ? `Features frozen: ${result.trainableParams.toLocaleString('en-US')} of ${result.totalParams.toLocaleString('en-US')} parameters train.\n` : '') +
          (result.ignored.length ? `Ignored ${result.ignored.length} state-dict entries (num_batches_tracked${result.headReplaced ? ', the old classifier' : ''}).\n` : ''),
      );
    });
}
