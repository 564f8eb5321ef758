import type * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import type { DatasetSpec, TrainSettings } from '../../../shared/training';
import { formatBackendReport } from '../backend';
import { computeNormalization, skippedSummary, type LoadedDataset } from '../data';
import * as path from 'node:path';
import type { StartFrom, WeightsSourceInfo } from '../../../shared/start-from';
import { describeDenseNet } from '../import/densenet-shapes';
import { applyImportFreeze } from '../import/freeze';
import { describeStartFrom, loadStartFrom } from '../import/start-from';
import { writeImportRecord } from '../runs/import-record';
import type { RunConfigFile } from '../runs/run-files';
import { resolveRunDir } from '../runs/run-store';
import type { BackendReport } from '../backend';
import { memoryRecord, planRunMemory } from './memory';
import type { MemoryPlan, MemoryPlanRequest } from '../../../shared/memory-plan';
import { loadCheckpoint } from '../runs/checkpoint';
import { RunJournal } from '../runs/run-journal';
import type { ResumePoint } from '../train/loop';
import { setModelWeights } from '../train/model-weights';
import { openRun } from './open-run';
import { runDatasetOptions, type TrainRunPorts } from './ports';

/**
 * The steps before a run's first training step: pick the backend, load the data, create (or
 * reopen) the run folder, build the model and put its weights in place. Each is a function of its
 * own, so a feature that changes one (where initial weights come from, how the model is built)
 * changes it alone.
 */
export type RunRequest =
  | { kind: 'start'; runDir: string; name?: string; model: DenseNetConfig; settings: TrainSettings; dataset: DatasetSpec; startFrom?: StartFrom }
  | { kind: 'resume'; runDir: string };

export interface Log {
  (level: 'info' | 'warn', message: string): void;
}

export interface PreparedData {
  journal: RunJournal;
  dataset: LoadedDataset;
  backend: BackendReport;
  /** How the training step fits the backend's memory (./memory.ts). */
  memory: { request: MemoryPlanRequest; plan: MemoryPlan };
}

/**
 * Loads the run's dataset and, for a new run, creates its folder: config.json records what the
 * data turned out to be. A resumed run's folder is reopened before the data loads (`journal`).
 */
export async function prepareData(request: RunRequest, journal: RunJournal | null, ports: TrainRunPorts, log: Log): Promise<PreparedData> {
  const model = request.kind === 'start' ? request.model : journal!.config.model;
  const settings = request.kind === 'start' ? request.settings : journal!.config.settings;
  const backend = await ports.selectBackend(settings.backend);
  // Before the data loads: a step that cannot fit is refused now, not after minutes of decoding.
  const memory = planRunMemory(backend, model, settings);
  let dataset: LoadedDataset;
  if (request.kind === 'start') {
    dataset = await ports.loadDataset(request.dataset, runDatasetOptions(settings, model.inputShape));
  } else {
    const loaded = await openRun(journal!.dir, ports).loadData();
    dataset = loaded.dataset;
    for (const w of loaded.warnings) log('warn', w);
  }
  if (dataset.classes.length !== model.classes) {
    throw new WorkbenchError(`The model has ${model.classes} classes but dataset ${dataset.name} has ${dataset.classes.length} (${dataset.classes.slice(0, 5).join(', ')}${dataset.classes.length > 5 ? ', ...' : ''}); set classes to ${dataset.classes.length}.`);
  }
  if (request.kind === 'start') {
    const normalization = (await sourceNormalization(request, model, log)) ?? (settings.normalize ? await computeNormalization(dataset.train) : null);
    journal = RunJournal.create(request.runDir, {
      ...(request.name !== undefined ? { name: request.name } : {}),
      model, settings, seed: settings.seed, normalization, backend: { ...backend, memory: memoryRecord(memory.plan) },
      dataset: {
        spec: request.dataset, name: dataset.name, fingerprint: dataset.fingerprint, classes: dataset.classes,
        inputShape: dataset.inputShape, trainSize: dataset.train.size, valSize: dataset.val.size,
      },
    });
  }
  log('info', formatBackendReport(backend));
  const skipped = skippedSummary(dataset.report);
  if (skipped) log('warn', skipped);
  return { journal: journal!, dataset, backend, memory };
}

/** A pretrained source of a new run, its `run` resolved in the new run's store; null for scratch. */
function startSource(request: RunRequest): Exclude<StartFrom, { kind: 'scratch' }> | null {
  if (request.kind !== 'start' || !request.startFrom || request.startFrom.kind === 'scratch') return null;
  const from = request.startFrom;
  return from.kind === 'run' ? { ...from, run: resolveRunDir(from.run, path.dirname(path.resolve(request.runDir))) } : from;
}

/**
 * Checks a pretrained source against the new run's architecture before its folder exists, and
 * returns the normalization the weights were trained with (ImageNet's for torchvision's, the
 * source run's own): their features expect it, so the new run keeps it rather than computing its
 * own from the new data. Null for scratch, or a source that has none for these channels.
 */
async function sourceNormalization(request: RunRequest, model: DenseNetConfig, log: Log): Promise<RunConfigFile['normalization'] | null> {
  const from = startSource(request);
  if (!from) return null;
  const info = await describeStartFrom(from);
  const problems = sourceMismatch(info, model);
  if (problems) throw new WorkbenchError(`The run cannot start from ${from.kind === 'run' ? `run ${path.basename(from.run)}` : from.file}: ${problems}`);
  if (!info.normalization || info.normalization.mean.length !== model.inputShape[2]) return null;
  log('info', `Inputs are normalized as the pretrained weights were trained (mean ${info.normalization.mean.map((m) => m.toFixed(3)).join(', ')}), not with statistics of the new data.`);
  return info.normalization;
}

/** What keeps `model` from taking the source's weights, as a sentence, or null. */
function sourceMismatch(info: WeightsSourceInfo, model: DenseNetConfig): string | null {
  const keys = ['blocks', 'growthRate', 'bottleneck', 'compression', 'initFeatures', 'stem'] as const;
  const differ = keys.filter((k) => JSON.stringify(info.architecture[k]) !== JSON.stringify(model[k]));
  const channels = info.inputShape[2] !== model.inputShape[2];
  if (!differ.length && !channels) return null;
  return `the weights are ${info.variant} (${describeDenseNet(info.architecture)}, ${info.inputShape[2]}-channel input) and the run is ${model.variant} ` +
    `(${describeDenseNet(model)}, ${model.inputShape[2]}-channel input); give the run the weights' architecture.`;
}

/**
 * The run's model with the weights it trains from: fresh and seeded for a new run, or a
 * pretrained source's (the classifier replaced when the classes differ, recorded in the run's
 * import.json); for a resumed one, its latest good checkpoint's (none yet: it starts over from
 * step 0 with the same seed). Returns where the loop resumes, if it does.
 */
export async function prepareModel(journal: RunJournal, request: RunRequest, ports: TrainRunPorts, log: Log): Promise<{ model: tf.LayersModel; resumeAt?: ResumePoint }> {
  const { model: config, settings } = journal.config;
  const resume = request.kind === 'resume';
  const model = ports.buildModel(config, settings);
  try {
    const from = startSource(request);
    if (from) {
      const initial = await loadStartFrom(from, config, model, journal.config.dataset.classes);
      setModelWeights(model, initial.weights);
      writeImportRecord(journal.dir, { format: 1, ...initial.record, headReplaced: initial.headReplaced, freezeFeatures: false, ignoredKeys: [] });
      log('info', initial.note);
    }
    if (applyImportFreeze(journal.dir, model)) log('info', 'Feature layers are frozen (import --freeze-features): only the classifier trains.');
    return { model, resumeAt: resume ? resumePoint(journal.dir, model, log) : undefined };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

function resumePoint(runDir: string, model: tf.LayersModel, log: Log): ResumePoint | undefined {
  let ckpt;
  try {
    ckpt = loadCheckpoint(runDir, 'latest');
  } catch (err) {
    log('warn', `${err instanceof Error ? err.message : String(err)} The run starts again from step 0 with the same seed.`);
    return undefined;
  }
  setModelWeights(model, ckpt.weights);
  const m = ckpt.manifest;
  log('info', `Resuming from checkpoint ${m.name}: epoch ${m.epoch + 1}, step ${m.step}, learning rate and optimizer state as saved.`);
  return {
    step: m.step, epoch: m.epoch, epochStep: m.epochStep, rng: m.rng, earlyStopping: m.earlyStopping, best: m.best,
    optimizer: { iterations: m.optimizer.iterations, slots: ckpt.slots },
  };
}
