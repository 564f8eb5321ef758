import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../shared/errors';
import type { BackendName } from '../../../shared/training';
import type { BackendReport } from '../backend/report';

/**
 * The one place the trainer picks its tfjs backend, so switching to the backend module's
 * `initBackend` is a one-line change here.
 *
 * Until initBackend lands, only `cpu` trains: stock tfjs-backend-wasm has no Conv2DBackpropFilter
 * (MEASUREMENTS.md), and tfjs-node cannot be installed on this machine. `auto` therefore means cpu.
 */
export async function selectTrainingBackend(name: BackendName): Promise<BackendReport> {
  if (name !== 'auto' && name !== 'cpu') {
    throw new WorkbenchError(`The ${name} backend cannot train in this build yet; use --backend cpu or auto.`);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return {
    name: 'cpu',
    flavour: 'cpu',
    version: tf.version.tfjs,
    device: os.cpus()[0]?.model ?? 'unknown CPU',
    threads: 1,
    skipped: [],
  };
}
