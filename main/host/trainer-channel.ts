import { forkTrainer } from '../trainer/channel';
import type { TrainerChannelLike } from './engine-ports';

/**
 * The trainer process serve and the CLI use: the Training engine's child_process.fork channel
 * (main/trainer/channel.ts). Electron passes its utilityProcess channel to enginePorts instead.
 */
export function forkTrainerChannel(): TrainerChannelLike {
  return forkTrainer();
}
