import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../shared/errors';
import type { BackendName } from '../../../shared/training';
import { applyNormalization, decodeImage, loadDataset, type LoadedDataset } from '../data';
import { evalBatches } from '../train/dataset-source';
import { restoreModel } from '../train/restore';
import type { RunConfigFile } from '../runs/run-files';
import type { CheckpointManifest } from '../runs/checkpoint';
import type { EvalBatches } from './evaluation';
import { Inspector } from './inspector';
import type { TrainerEvent } from '../../../shared/protocol';

/**
 * A finished, stopped or interrupted run opened for inspection from one of its checkpoints: its model with the checkpoint's weights, and its validation
 * split loaded and normalized exactly as the trainer did (same spec, input shape, split fraction,
 * seed and stored normalization), so ablation and evaluation see the samples training validated on.
 */
export interface InspectionContext {
  config: RunConfigFile;
  manifest: CheckpointManifest;
  model: tf.LayersModel;
  dataset: LoadedDataset | null;
  val: EvalBatches | null;
  /** Sentences worth showing (e.g. the dataset changed since the run was made). */
  warnings: string[];
  inspector(emit: (event: TrainerEvent) => void): Inspector;
  dispose(): void;
}

export interface OpenOptions {
  /** `latest`, `best` or a checkpoint name. Default `best`. */
  checkpoint?: string;
  /** Load the dataset (needed for stats, activations of a sample, ablation, evaluation). Default true. */
  withData?: boolean;
  batchSize?: number;
  /** The backend to start when none runs yet (a fresh CLI or worker process); default auto. */
  backend?: BackendName;
}

export async function openForInspection(runDir: string, options: OpenOptions = {}): Promise<InspectionContext> {
  const { model, config, manifest } = await restoreModel(runDir, options.checkpoint ?? 'best', { backend: options.backend ?? 'auto' });
  const warnings: string[] = [];
  let dataset: LoadedDataset | null = null;
  let val: EvalBatches | null = null;
  try {
    if (options.withData ?? true) {
      dataset = await loadDataset(config.dataset.spec, {
        inputShape: config.dataset.inputShape,
        valFraction: config.settings.valFraction,
        seed: config.settings.seed, // as main/trainer/session.ts splits
      });
      if (dataset.fingerprint !== config.dataset.fingerprint) {
        warnings.push(`The dataset ${config.dataset.name} has changed since run ${config.id} was made (its fingerprint differs); results are on the current files.`);
      }
      if (dataset.val.size !== config.dataset.valSize) {
        warnings.push(`The validation split now has ${dataset.val.size} samples; run ${config.id} validated on ${config.dataset.valSize}.`);
      }
      const split = dataset.val;
      const shape = dataset.inputShape;
      const batchSize = options.batchSize ?? config.settings.batchSize;
      if (split.size > 0) val = () => evalBatches(split, batchSize, config.normalization, shape);
    }
  } catch (err) {
    model.dispose();
    throw err;
  }
  const inspectors: Inspector[] = [];
  return {
    config,
    manifest,
    model,
    dataset,
    val,
    warnings,
    inspector(emit) {
      const inspector = new Inspector({
        runId: config.id, model, modelConfig: config.model, classes: config.dataset.classes, val, emit,
        valSplit: dataset?.val ?? null, checkpoint: manifest.name,
      });
      inspector.setPosition(manifest.step, manifest.epoch);
      inspectors.push(inspector);
      return inspector;
    },
    dispose() {
      for (const i of inspectors) i.dispose();
      model.dispose();
    },
  };
}

/** Reads an image file into the run's input: decoded and resized as training did, then normalized. */
export async function imageForRun(file: string, config: RunConfigFile): Promise<tf.Tensor3D> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new WorkbenchError(`Cannot read the image ${file}: no such readable file.`);
  }
  let pixels: Uint8Array;
  try {
    pixels = await decodeImage(bytes, config.dataset.inputShape);
  } catch (err) {
    throw new WorkbenchError(`Cannot decode the image ${file}: ${(err as Error).message}`);
  }
  const [h, w, c] = config.dataset.inputShape;
  const x = Float32Array.from(pixels, (v) => v / 255);
  if (config.normalization) applyNormalization(x, config.normalization);
  return tf.tensor3d(x, [h, w, c]);
}
