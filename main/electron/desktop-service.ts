import { homedir } from 'node:os';
import { enginePorts } from '../host/engine-ports';
import { engineChannel } from '../trainer/engine-channel';
import { Roots } from '../host/roots';
import { WorkbenchService } from '../host/workbench-service';
import { createUtilityChannel, type ForkUtility } from './utility-channel';

/**
 * The WorkbenchService as the desktop app runs it: the same service and engine ports as browser
 * mode, with each trainer started in an Electron utilityProcess. Paths are not confined to roots
 * (`restrictPaths: false`): in the app they come from native dialogs and drops the user drove,
 * and the in-app folder browser starts at the user's home folder.
 */
export interface DesktopServiceOptions {
  forkUtility: ForkUtility;
  /** dist-electron/main/trainer/entry.js. */
  trainerEntry: string;
  runsDir: string;
  version: string;
  /** Where the in-app folder browser may go (`--root`); default the user's home folder. */
  roots?: readonly string[];
}

export async function createDesktopService(opts: DesktopServiceOptions): Promise<WorkbenchService> {
  const ports = enginePorts({
    runsDir: opts.runsDir,
    // The run's settings pick the engine: the TF.js trainer in a utility process, or the Python trainer.
    createChannel: (settings) => engineChannel({ tfjs: () => createUtilityChannel(opts.forkUtility, { entry: opts.trainerEntry }), settings }),
  });
  return new WorkbenchService({
    ports,
    roots: await Roots.create(opts.roots?.length ? opts.roots : [homedir()]),
    runsDir: opts.runsDir,
    mode: 'electron',
    version: opts.version,
    restrictPaths: false,
  });
}
