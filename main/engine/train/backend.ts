import { WorkbenchError } from '../../../shared/errors';
import type { TrainBackendName } from '../../../shared/training';
import { startBackend, type BackendReport } from '../backend';

/**
 * The one place the trainer picks its tfjs backend (main/engine/backend chooses tensorflow, then
 * wasm with this project's training kernels, then cpu). Unlike ensureBackend it always starts the
 * backend the run's settings name: a trainer process does nothing else.
 */
export async function selectTrainingBackend(name: TrainBackendName, options: { threads?: number } = {}): Promise<BackendReport> {
  if (name === 'pytorch') {
    // The host starts a Python trainer for these runs; reaching here is a routing bug.
    throw new WorkbenchError('This is the TF.js trainer; a run with backend pytorch is trained by the PyTorch engine (a Python trainer).', { user: false });
  }
  return startBackend(name, options);
}
