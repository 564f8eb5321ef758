import type { Command } from 'commander';
import { WorkbenchError } from '../../shared/errors';
import { FineTuneSchema, type FineTune } from '../../shared/training';

/**
 * The fine-tune recipe's flags, shared by `import` and `train`: `--head-epochs N` (the classifier
 * alone for N epochs, then every layer), `--lr-factor X` (the learning rate after unfreezing, as a
 * factor of --lr) and `--freeze-bn` (batch norms keep the pretrained statistics after unfreezing
 * too). Any of them turns the recipe on; the others keep their defaults (3 epochs, 0.1, off).
 */
export interface FineTuneFlags {
  headEpochs?: string;
  lrFactor?: string;
  freezeBn?: boolean;
}

export function addFineTuneOptions(command: Command): Command {
  return command
    .option('--head-epochs <n>', 'fine-tune in two phases: train only the classifier for N epochs (features frozen, batch norms in inference mode), then every layer')
    .option('--lr-factor <x>', 'fine-tuning: the learning rate after unfreezing, as a factor of --lr (default 0.1)')
    .option('--freeze-bn', 'fine-tuning: batch norms keep the pretrained statistics after unfreezing too (default: they update them)');
}

/** The recipe the flags ask for, or null when none was given. */
export function fineTuneFromFlags(flags: FineTuneFlags, epochs?: number): FineTune | null {
  if (flags.headEpochs === undefined && flags.lrFactor === undefined && !flags.freezeBn) return null;
  const number = (text: string | undefined) => (text === undefined ? undefined : text.trim() === '' ? Number.NaN : Number(text));
  const parsed = FineTuneSchema.safeParse({
    ...(flags.headEpochs !== undefined ? { headEpochs: number(flags.headEpochs) } : {}),
    ...(flags.lrFactor !== undefined ? { lrFactor: number(flags.lrFactor) } : {}),
    freezeBatchNorm: Boolean(flags.freezeBn),
  });
  if (!parsed.success) {
    const field = String(parsed.error.issues[0].path[0]);
    const [flag, accepted, given] = field === 'headEpochs'
      ? ['--head-epochs', 'a whole number ≥ 0', flags.headEpochs]
      : ['--lr-factor', 'a number in (0, 1]', flags.lrFactor];
    throw new WorkbenchError(`${flag} must be ${accepted}; got "${given}".`);
  }
  if (epochs !== undefined && parsed.data.headEpochs > epochs) {
    throw new WorkbenchError(`--head-epochs ${parsed.data.headEpochs} is more than the run's ${epochs} epochs, so every layer would never train; lower it, or use --freeze-features to train only the classifier.`);
  }
  return parsed.data;
}
