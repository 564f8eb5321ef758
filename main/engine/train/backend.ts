import type { BackendName } from '../../../shared/training';
import { startBackend, type BackendReport } from '../backend';

/**
 * The one place the trainer picks its tfjs backend (main/engine/backend chooses tensorflow, then
 * wasm with this project's training kernels, then cpu). Unlike ensureBackend it always starts the
 * backend the run's settings name: a trainer process does nothing else.
 */
export async function selectTrainingBackend(name: BackendName, options: { threads?: number } = {}): Promise<BackendReport> {
  return startBackend(name, options);
}
