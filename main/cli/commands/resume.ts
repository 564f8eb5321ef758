import type { Command } from 'commander';
import { WorkbenchError } from '../../../shared/errors';
import { isLive, isResumable, statusLabel } from '../../../shared/run/lifecycle';
import { readRun, resolveRunDir } from '../../engine/runs/run-store';
import { driveRun } from '../drive';
import { DeviceSchema } from '../../../shared/training';
import { chooseEngine, formatPyTorchDetection } from '../../engine/pytorch/select';
import { engineChannel } from '../../trainer/engine-channel';
import { forkTrainer } from '../../trainer/fork';
import { TrainerHost } from '../../trainer/host';
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
    .option('--json', 'print one JSON event per line instead of a progress bar')
    .option('--python <path>', 'PyTorch engine: the Python interpreter (default: the run\'s, else found)')
    .option('--device <name>', `PyTorch engine: ${DeviceSchema.options.join(', ')}`)
    .option('--nproc <n>', 'PyTorch engine: processes on this machine (DistributedDataParallel; the global batch is kept)');
  addRunsOption(command, { legacyOut: true }).action(async (runArg: string, flags: RunsFlags & { out?: string; json?: boolean; python?: string; device?: string; nproc?: string }) => {
    const dir = resolveRunDir(runArg, runsDirOf(flags, flags.out));
    const run = readRun(dir);
    const { status, reason } = run.effective;
    if (isLive(status)) {
      throw new WorkbenchError(`Run ${run.id} is ${status} in process ${run.status?.pid}; it cannot be resumed twice.`);
    }
    if (!isResumable(status, reason)) {
      throw new WorkbenchError(`Run ${run.id} has finished (${run.summary?.reason ?? reason ?? 'completed'}); there is nothing to resume. Start a new run to train longer.`);
    }
    if (flags.device !== undefined && !DeviceSchema.safeParse(flags.device).success) {
      throw new WorkbenchError(`--device must be one of ${DeviceSchema.options.join(', ')}; got "${flags.device}".`);
    }
    const nproc = flags.nproc === undefined ? 1 : Number(flags.nproc);
    if (!Number.isInteger(nproc) || nproc < 1 || nproc > 64) throw new WorkbenchError(`--nproc must be an integer in 1..64; got "${flags.nproc}".`);
    // The engine the run's settings ask for; either engine continues the other's runs (one run folder format).
    const settings = { ...run.config.settings, ...(flags.device ? { device: flags.device as 'auto' } : {}), ...(nproc > 1 ? { backend: 'pytorch' as const } : {}) };
    const python = flags.python ?? settings.python;
    const choice = await chooseEngine(settings, python ? { python } : {}).catch(async (err: unknown) => {
      // The run's own interpreter is not on this machine (a copied folder): look for one here.
      if (flags.python || !settings.python) throw err;
      return chooseEngine(settings);
    });
    if (!flags.json && choice.engine === 'pytorch' && choice.detection) process.stdout.write(`${formatPyTorchDetection(choice.detection)}\n`);
    const host = new TrainerHost(engineChannel({ tfjs: () => forkTrainer(), settings, choice, nproc }));
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
