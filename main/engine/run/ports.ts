import type * as tf from '@tensorflow/tfjs';
import type { DenseNetConfig } from '../../../shared/config';
import type { DatasetSpec, TrainBackendName, TrainSettings } from '../../../shared/training';
import type { BackendReport } from '../backend';
import { loadDataset, type LoadedDataset, type LoadOptions } from '../data';
import { buildDenseNet } from '../model/densenet';
import { selectTrainingBackend } from '../train/backend';
import { SeedPurpose, streamSeed, withSeededRandom } from '../train/seeded';

/**
 * What the "train a run" use case needs from the world, passed in so it runs without a process,
 * a real dataset or a particular backend (tests hand it a synthetic dataset and the cpu backend).
 * `tfjsPorts` is the TF.js engine's: tfjs backend selection, the data module, the Keras-style builder.
 */
export interface TrainRunPorts {
  selectBackend(name: TrainBackendName): Promise<BackendReport>;
  loadDataset(spec: DatasetSpec, options: LoadOptions): Promise<LoadedDataset>;
  /** The run's model with fresh, seeded weights. `settings` carries whatever shapes the build beyond the config. */
  buildModel(config: DenseNetConfig, settings: TrainSettings): tf.LayersModel;
  /** Clock in ms. */
  now(): number;
}

export const tfjsPorts: TrainRunPorts = {
  selectBackend: (name) => selectTrainingBackend(name),
  loadDataset: (spec, options) => loadDataset(spec, options),
  // Weight initialisation is a function of the run seed, so a run restarted from step 0 is the same run.
  buildModel: (config, settings) => withSeededRandom(streamSeed(settings.seed, SeedPurpose.init), () => buildDenseNet(config)),
  now: () => Date.now(),
};

/** How a run's dataset is loaded, the same at the start, on resume, and when the run is reopened to evaluate or inspect it. */
export function runDatasetOptions(settings: TrainSettings, inputShape: [number, number, number]): LoadOptions {
  return { inputShape, valFraction: settings.valFraction, seed: settings.seed };
}
