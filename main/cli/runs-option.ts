import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { WorkbenchError } from '../../shared/errors';

/**
 * The run store, as every command that reads or writes runs names it: `--runs DIR`, else
 * WORKBENCH_RUNS_DIR, else the store the desktop app and `npm start` use from a checkout (its
 * `runs/` folder, wherever the command is typed), else `./runs` when the workbench is installed
 * as a package (the desktop app then keeps runs beside the user's documents).
 */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function defaultRunsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WORKBENCH_RUNS_DIR) return env.WORKBENCH_RUNS_DIR;
  const installed = PACKAGE_ROOT.split(path.sep).includes('node_modules');
  return installed ? path.resolve('runs') : path.join(PACKAGE_ROOT, 'runs');
}

export interface RunsFlags {
  runs?: string;
}

/**
 * Adds --runs. `legacyOut` also accepts --out, the spelling train, resume, eval and runs used for
 * the store before every command took --runs; it is hidden from the help and still works.
 */
export function addRunsOption(command: Command, options: { legacyOut?: boolean } = {}): Command {
  command.option('--runs <dir>', 'the run store (default: $WORKBENCH_RUNS_DIR, else the checkout\'s runs/)');
  if (options.legacyOut) command.addOption(new Option('--out <dir>', 'the run store (old spelling of --runs)').hideHelp());
  return command;
}

/** The run store the flags name. `legacyOut` is the value of --out on the commands that took it for the store. */
export function runsDirOf(flags: RunsFlags, legacyOut?: string): string {
  if (flags.runs !== undefined && legacyOut !== undefined && path.resolve(flags.runs) !== path.resolve(legacyOut)) {
    throw new WorkbenchError(`--runs ${flags.runs} and --out ${legacyOut} both name the run store; give only --runs.`);
  }
  return flags.runs ?? legacyOut ?? defaultRunsDir();
}
