import type * as tf from '@tensorflow/tfjs';
import { buildDenseNet } from '../model/densenet';
import { loadCheckpoint, type CheckpointManifest } from '../runs/checkpoint';
import { setModelWeights } from './model-weights';
import { readRunConfig, type RunConfigFile } from '../runs/run-store';

/**
 * Rebuilds a run's model from its config.json and loads a checkpoint's weights into it (moving
 * batch-norm statistics included). For eval, export and inspection of a finished or stopped run.
 * The caller owns the model and disposes it.
 */
export function restoreModel(runDir: string, which: 'latest' | 'best' | string = 'best'): {
  model: tf.LayersModel;
  config: RunConfigFile;
  manifest: CheckpointManifest;
} {
  const config = readRunConfig(runDir);
  const checkpoint = loadCheckpoint(runDir, which);
  const model = buildDenseNet(config.model);
  try {
    setModelWeights(model, checkpoint.weights);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, config, manifest: checkpoint.manifest };
}
