import { WorkbenchError } from '../../../shared/errors';
import type { TrainSettings } from '../../../shared/training';
import { batchCount, createRng, iterateBatches, type Normalization, type RngState } from '../data';
import type { Batch } from '../data/batches';
import type { DataSplit, LoadedDataset } from '../data/types';
import type { TrainData } from './loop';
import { SeedPurpose, streamSeed } from './seeded';

/**
 * TrainData over a LoadedDataset: shuffled, augmented, normalized training batches and plain
 * validation batches, from main/engine/data's iterateBatches.
 *
 * Exact resume: iterateBatches draws one value from the data RNG per epoch and derives the order
 * and every batch's augmentation from it, so the loop stores the RNG state at the start of an epoch
 * and a resume restores it and starts at the next batch (`startBatch`).
 */
export function datasetSource(dataset: LoadedDataset, settings: TrainSettings, normalization: Normalization | null): TrainData {
  if (dataset.train.size === 0) throw new WorkbenchError(`Dataset ${dataset.name} has no training samples.`);
  const rng = createRng(streamSeed(settings.seed, SeedPurpose.data));
  // A last batch of one sample gives batch norm a zero variance; leave such a batch out.
  const dropLast = dataset.train.size > settings.batchSize && dataset.train.size % settings.batchSize === 1;
  const augment = settings.augment.padCrop || settings.augment.flip ? { padCrop: settings.augment.padCrop, flip: settings.augment.flip } : false;
  return {
    classes: dataset.classes.length,
    stepsPerEpoch: batchCount(dataset.train.size, settings.batchSize, dropLast),
    // `>>> 0`: the generator may hold its words as signed 32-bit values; setState wants them unsigned.
    rngState: () => rng.getState().map((v) => v >>> 0),
    setRngState: (state) => rng.setState(state as RngState),
    trainBatches: (_epoch, skip) =>
      iterateBatches(dataset.train, {
        batchSize: settings.batchSize, shuffle: true, rng, augment, normalization, dropLast, startBatch: skip, sampleShape: dataset.inputShape,
      }),
    valBatches: () => (dataset.val.size > 0 ? evalBatches(dataset.val, settings.batchSize, normalization, dataset.inputShape) : null),
  };
}

/** A split in order, normalized, without augmentation: for validation, test and `eval`. */
export function evalBatches(split: DataSplit, batchSize: number, normalization: Normalization | null, shape: [number, number, number]): AsyncIterable<Batch> {
  // Unshuffled and unaugmented, so the rng's one draw has no effect; a throwaway one keeps the run's stream intact.
  return iterateBatches(split, { batchSize, shuffle: false, rng: createRng(0), normalization, sampleShape: shape });
}
