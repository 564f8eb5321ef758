import type { Command } from 'commander';
import { WorkbenchError } from '../../../shared/errors';
import { isLive, isResumable, statusLabel } from '../../../shared/run/lifecycle';
import { readRun, resolveRunDir } from '../../engine/runs/run-store';
import { driveRun } from '../drive';
import { forkTrainerHost } from '../../trainer/host';
import { addRunsOption, runsDirOf, type RunsFlags } from '../runs-option';

/**
 * `densenet-workbench resume RUN`: continues a stopped, interrupted or failed run from its latest
 * good checkpoint, with the learning rate, optimizer momenta, step and data order it had.
 */
export function registerResume(program: Command): void {
  const command = program
    .command('resume')
    .description('Resume a stopped or interrupted run from its latest checkpoint.')
    .argument('<run>', 'a run folder, or the id or name of a run under --runs')
    .option('--json', 'print one JSON event per line instead of a progress bar');
  addRunsOption(command, { legacyOut: true }).action(async (runArg: string, flags: RunsFlags & { out?: string; json?: boolean }) => {
    const dir = resolveRunDir(runArg, runsDirOf(flags, flags.out));
    const run = readRun(dir);
    const { status, reason } = run.effective;
    if (isLive(status)) {
      throw new WorkbenchError(`Run ${run.id} is ${status} in process ${run.status?.pid}; it cannot be resumed twice.`);
    }
    if (!isResumable(status, reason)) {
      throw new WorkbenchError(`Run ${run.id} has finished (${run.summary?.reason ?? reason ?? 'completed'}); there is nothing to resume. Start a new run to train longer.`);
    }
    const host = forkTrainerHost();
    try {
      await host.ready;
      const ref = host.resumeRun(dir);
      if (!flags.json) process.stdout.write(`Resuming run ${run.id} (${run.config.name}), ${statusLabel(status, reason)} at epoch ${(run.status?.epoch ?? 0) + 1}, step ${run.status?.step ?? 0}.\n`);
      await driveRun(host, ref, { json: Boolean(flags.json), epochs: run.config.settings.epochs });
    } finally {
      await host.close();
    }
  });
}
