import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DenseNetConfig } from '../../shared/config';
import { WorkbenchError } from '../../shared/errors';
import { formatLr } from '../../shared/format';
import { findPreset, getPreset } from '../../shared/presets';
import type { StartFrom, WeightsSourceInfo } from '../../shared/start-from';
import { defaultTrainSettings, FineTuneSchema, type TrainSettings } from '../../shared/training';
import { fetchCheckpoint, findPretrained } from '../engine/import/pretrained';
import { describeStartFrom } from '../engine/import/start-from';
import { resolveRunDir } from '../engine/runs/run-store';
import { downloadBar } from './download-progress';
import { fineTuneFromFlags, type FineTuneFlags } from './fine-tune-args';

/**
 * `train --start-from RUN|FILE` and `train --pretrained NAME`: which weights a new run starts from,
 * what the run then looks like (the weights' architecture and input, the dataset's classes) and the
 * fine-tuning recipe it trains with unless flags say otherwise.
 */
export interface StartFromFlags extends FineTuneFlags {
  startFrom?: string;
  pretrained?: string;
  checkpoint: string;
}

export interface PretrainedSource {
  from: Exclude<StartFrom, { kind: 'scratch' }>;
  info: WeightsSourceInfo;
}

/**
 * Reads the source the flags name (downloading ImageNet weights first), or null for scratch.
 * `given(flag)` tells flags typed on the command line from defaults: the architecture comes from
 * the weights, so --variant and the architecture flags may not be given with a source.
 */
export async function pretrainedSource(flags: StartFromFlags, given: (name: string) => boolean, runsDir: string, architectureGiven: boolean): Promise<PretrainedSource | null> {
  if (flags.startFrom === undefined && flags.pretrained === undefined) {
    if (given('checkpoint')) throw new WorkbenchError('--checkpoint applies with --start-from RUN only.');
    return null;
  }
  if (flags.startFrom !== undefined && flags.pretrained !== undefined) throw new WorkbenchError('Give one of --start-from and --pretrained.');
  if (given('variant') || architectureGiven) {
    throw new WorkbenchError('The architecture of a run that starts from pretrained weights is the weights\' own; leave out --variant and the architecture flags.');
  }
  let from: PretrainedSource['from'];
  if (flags.pretrained !== undefined) {
    const weights = findPretrained(flags.pretrained);
    const bar = downloadBar(`Downloading ${weights.fileName}`);
    try {
      from = { kind: 'weights', file: (await fetchCheckpoint(weights.name, { onProgress: bar.onProgress })).file };
    } finally {
      bar.stop();
    }
  } else {
    from = startFromArg(flags.startFrom!, flags.checkpoint, runsDir);
  }
  return { from, info: await describeStartFrom(from, runsDir) };
}

/** A file is weights; a folder or anything else is a run (its folder, id or name). */
function startFromArg(arg: string, checkpoint: string, runsDir: string): PretrainedSource['from'] {
  if (fs.existsSync(arg) && fs.statSync(arg).isFile()) return { kind: 'weights', file: path.resolve(arg) };
  return { kind: 'run', run: resolveRunDir(arg, runsDir), checkpoint };
}

/** The new run's model: the weights' architecture at `inputShape`, with the dataset's classes. */
export function sourceConfig(info: WeightsSourceInfo, inputShape: [number, number, number], classes: number): DenseNetConfig {
  if (inputShape[2] !== info.inputShape[2]) {
    throw new WorkbenchError(`The weights take ${info.inputShape[2]}-channel input; --input asks for ${inputShape[2]} channels. Leave the channels as the weights have them: images are converted.`);
  }
  if (findPreset(info.variant)) return getPreset(info.variant, { inputShape, classes });
  return { variant: 'custom', ...info.architecture, blocks: [...info.architecture.blocks], dropRate: 0, inputShape, classes };
}

/**
 * The training fields a pretrained start changes unless given: the two-phase recipe (the
 * classifier alone for 3 epochs, or one less than the run has, then every layer at lr × 0.1), a
 * learning rate of 0.01 rather than the paper's 0.1 for training from scratch, and a cosine schedule.
 */
export function fineTuneRecipe(flags: FineTuneFlags, raw: Record<string, unknown>): Partial<TrainSettings> {
  const epochs = typeof raw.epochs === 'number' ? raw.epochs : defaultTrainSettings().epochs;
  const fineTune = fineTuneFromFlags(flags, epochs) ?? FineTuneSchema.parse({ headEpochs: Math.min(3, epochs - 1) });
  return {
    fineTune,
    ...(raw.lr === undefined ? { lr: 0.01 } : {}),
    ...(raw.schedule === undefined ? { schedule: 'cosine' as const } : {}),
  };
}

/** What the run will do with the weights, for the terminal. */
export function describeStart(info: WeightsSourceInfo, model: DenseNetConfig, settings: TrainSettings): string {
  const ft = settings.fineTune;
  const lines = [
    `Starting from ${info.description}`,
    `Input ${model.inputShape.join('×')}${info.normalization ? ', normalized as the weights were trained' : ''}; ` +
      (info.classes === model.classes
        ? `the weights' classifier is kept only if the dataset's ${model.classes} classes are the ones it was trained on.`
        : `a new classifier for ${model.classes} classes replaces the weights' ${info.classes === null ? 'missing one' : `${info.classes}-class one`}.`),
  ];
  if (ft) {
    lines.push(
      `Fine-tuning: the classifier alone for ${ft.headEpochs} epoch${ft.headEpochs === 1 ? '' : 's'} at lr ${formatLr(settings.lr)}, then every layer ` +
        `at lr ${formatLr(settings.lr * ft.lrFactor)} (batch norms ${ft.freezeBatchNorm ? 'keep their stored statistics' : 'update their statistics'}).`,
    );
  }
  return lines.map((l) => `${l}\n`).join('');
}
