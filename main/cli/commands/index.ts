import type { Command } from 'commander';
import { registerVariants } from './variants';
import { registerSummary } from './summary';
import { registerScan } from './scan';
import { registerInspect } from './inspect';

/** One entry per subcommand file. Add yours here (one line each). */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerVariants,
  registerSummary,
  registerScan,
  registerInspect,
];
