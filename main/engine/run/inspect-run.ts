import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../shared/errors';
import type { BackendName } from '../../../shared/training';
import type { TrainerEvent } from '../../../shared/protocol';
import { applyNormalization, decodeImage, type LoadedDataset } from '../data';
import type { EvalBatches } from '../inspect/evaluation';
import { Inspector } from '../inspect/inspector';
import type { CheckpointManifest } from '../runs/checkpoint';
import type { RunConfigFile } from '../runs/run-files';
import { openRun } from './open-run';

/**
 * A finished, stopped or interrupted run opened for inspection from one of its checkpoints: its
 * model with the checkpoint's weights, and its validation split as training validated on it
 * (./open-run), so ablation and evaluation see the samples training saw.
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
  const run = openRun(runDir);
  const { config } = run;
  const { model, manifest } = await run.restoreModel(options.checkpoint ?? 'best', { backend: options.backend ?? 'auto' });
  let dataset: LoadedDataset | null = null;
  let val: EvalBatches | null = null;
  let warnings: string[] = [];
  try {
    if (options.withData ?? true) {
      ({ dataset, warnings } = await run.loadData());
      const split = dataset.val;
      if (split.size > 0) val = () => run.batches(split, options.batchSize);
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
