import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { BackendName, DatasetSpec } from '../../../shared/training';
import { ensureBackend } from '../backend';
import type { Batch, DataSplit, LoadedDataset } from '../data';
import { buildDenseNet } from '../model/densenet';
import { loadCheckpoint, type CheckpointManifest } from '../runs/checkpoint';
import type { RunConfigFile } from '../runs/run-files';
import { readRunConfig } from '../runs/run-store';
import { evalBatches } from '../train/dataset-source';
import { setModelWeights } from '../train/model-weights';
import { runDatasetOptions, tfjsPorts, type TrainRunPorts } from './ports';

/**
 * A run reopened as it was trained: its config, its model with a checkpoint's weights, and its
 * dataset loaded, split and normalized exactly as its trainer did (same spec, input shape, split
 * fraction, seed and stored normalization). Evaluation, inspection, export and a resumed training
 * session all reopen a run through here, so they see the samples and the preprocessing training saw.
 */
export interface OpenedRun {
  dir: string;
  config: RunConfigFile;
  /** The run's model with a checkpoint's weights: `latest`, `best` or a name. The caller disposes it. */
  restoreModel(which?: 'latest' | 'best' | string, options?: RestoreOptions): Promise<{ model: tf.LayersModel; manifest: CheckpointManifest }>;
  /**
   * The run's dataset as its trainer loaded it, or another one in its place (`spec`, with its own
   * `valFraction`), plus sentences saying what changed since the run was made.
   */
  loadData(options?: { spec?: DatasetSpec; valFraction?: number }): Promise<{ dataset: LoadedDataset; warnings: string[] }>;
  /** A split in order, normalized as in training, without augmentation. */
  batches(split: DataSplit, batchSize?: number): AsyncIterable<Batch>;
}

export function openRun(runDir: string, ports: Pick<TrainRunPorts, 'loadDataset'> = tfjsPorts): OpenedRun {
  const dir = path.resolve(runDir);
  const config = readRunConfig(dir);
  return {
    dir,
    config,
    restoreModel: async (which = 'best', options = {}) => {
      const { model, manifest } = await restoreModel(dir, which, options);
      return { model, manifest };
    },
    async loadData(options = {}) {
      const spec = options.spec ?? config.dataset.spec;
      const dataset = await ports.loadDataset(spec, {
        ...runDatasetOptions(config.settings, config.dataset.inputShape),
        ...(options.valFraction !== undefined ? { valFraction: options.valFraction } : {}),
      });
      const warnings: string[] = [];
      if (!options.spec) {
        if (dataset.fingerprint !== config.dataset.fingerprint) {
          warnings.push(`The dataset ${config.dataset.name} has changed since run ${config.id} was made (its fingerprint differs); the current files are used.`);
        }
        if (dataset.val.size !== config.dataset.valSize) {
          warnings.push(`The validation split now has ${dataset.val.size} samples; run ${config.id} validated on ${config.dataset.valSize}.`);
        }
      }
      return { dataset, warnings };
    },
    batches: (split, batchSize = config.settings.batchSize) => evalBatches(split, batchSize, config.normalization, config.dataset.inputShape),
  };
}

export interface RestoreOptions {
  /** The backend to start when none runs yet; default auto. */
  backend?: BackendName;
  /** wasm threads, when it starts wasm. */
  threads?: number;
}

/**
 * Rebuilds a run's model from its config.json and loads a checkpoint's weights into it (moving
 * batch-norm statistics included). It starts a backend first (ensureBackend: the one running, else
 * `backend`), so no caller can build a model on a backend nobody initialised. The caller owns the
 * model and disposes it.
 */
export async function restoreModel(runDir: string, which: 'latest' | 'best' | string = 'best', options: RestoreOptions = {}): Promise<{
  model: tf.LayersModel;
  config: RunConfigFile;
  manifest: CheckpointManifest;
}> {
  const config = readRunConfig(runDir);
  const checkpoint = loadCheckpoint(runDir, which);
  await ensureBackend(options.backend ?? 'auto', options.threads !== undefined ? { threads: options.threads } : {});
  const model = buildDenseNet(config.model);
  try {
    setModelWeights(model, checkpoint.weights);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, config, manifest: checkpoint.manifest };
}
