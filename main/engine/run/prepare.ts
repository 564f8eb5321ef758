import type * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import { WorkbenchError } from '../../../shared/errors';
import type { DatasetSpec, TrainSettings } from '../../../shared/training';
import { formatBackendReport } from '../backend';
import { computeNormalization, skippedSummary, type LoadedDataset } from '../data';
import { applyImportFreeze } from '../import/freeze';
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
  | { kind: 'start'; runDir: string; name?: string; model: DenseNetConfig; settings: TrainSettings; dataset: DatasetSpec }
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
    const normalization = settings.normalize ? await computeNormalization(dataset.train) : null;
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

/**
 * The run's model with the weights it trains from: fresh and seeded for a new run; for a resumed
 * one, its latest good checkpoint's (none yet: it starts over from step 0 with the same seed).
 * Returns where the loop resumes, if it does.
 */
export function prepareModel(journal: RunJournal, resume: boolean, ports: TrainRunPorts, log: Log): { model: tf.LayersModel; resumeAt?: ResumePoint } {
  const { model: config, settings } = journal.config;
  const model = ports.buildModel(config, settings);
  try {
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
