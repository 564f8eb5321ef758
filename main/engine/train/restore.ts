import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../../shared/training';
import { ensureBackend } from '../backend';
import { buildDenseNet } from '../model/densenet';
import { loadCheckpoint, type CheckpointManifest } from '../runs/checkpoint';
import { setModelWeights } from './model-weights';
import { readRunConfig, type RunConfigFile } from '../runs/run-store';

export interface RestoreOptions {
  /** The backend to start when none runs yet; default auto. */
  backend?: BackendName;
  /** wasm threads, when it starts wasm. */
  threads?: number;
}

/**
 * Rebuilds a run's model from its config.json and loads a checkpoint's weights into it (moving
 * batch-norm statistics included). For eval, export, predict and inspection of a finished or
 * stopped run. It starts a backend first (ensureBackend: the one running, else `backend`), so no
 * caller can build a model on a backend nobody initialised. The caller owns the model and disposes it.
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
