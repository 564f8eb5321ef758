import type { TrainBackendName } from '../../../shared/training';
import { startBackend, type BackendReport } from '../backend';

/**
 * The one place the trainer picks its tfjs backend (main/engine/backend chooses tensorflow, then
 * wasm with this project's training kernels, then cpu). Unlike ensureBackend it always starts the
 * backend the run's settings name: a trainer process does nothing else. A run the PyTorch engine
 * trains (`pytorch`) that this engine inspects or continues gets the best TF.js backend: both
 * engines read the same run folder and checkpoints.
 */
export async function selectTrainingBackend(name: TrainBackendName, options: { threads?: number } = {}): Promise<BackendReport> {
  return startBackend(name === 'pytorch' ? 'auto' : name, options);
}
