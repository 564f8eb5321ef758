import { WorkbenchError } from '../../../shared/errors';
import type { TrainBackendName } from '../../../shared/training';
import { initBackend, type BackendReport } from '../backend';

/**
 * The one place the trainer picks its tfjs backend (main/engine/backend chooses tensorflow, then
 * wasm with this project's training kernels, then cpu). A backend that was asked for by name and
 * cannot start is the user's to fix, so it becomes a user error naming the alternatives.
 */
export async function selectTrainingBackend(name: TrainBackendName, options: { threads?: number } = {}): Promise<BackendReport> {
  if (name === 'pytorch') {
    // The host starts a Python trainer for these runs; reaching here is a routing bug.
    throw new WorkbenchError('This is the TF.js trainer; a run with backend pytorch is trained by the PyTorch engine (a Python trainer).', { user: false });
  }
  try {
    return await initBackend(name, options.threads !== undefined ? { threads: options.threads } : {});
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new WorkbenchError(`${reason} Use --backend auto to take the best one available, or --backend cpu.`, { cause: err });
  }
}
