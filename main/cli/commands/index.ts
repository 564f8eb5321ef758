import type { Command } from 'commander';
import { registerVariants } from './variants';
import { registerSummary } from './summary';
import { registerScan } from './scan';
import { registerInspect } from './inspect';
import { registerServe } from './serve';

/** One entry per subcommand file. Add yours here (one line each). */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerServe,
  registerVariants,
  registerSummary,
  registerScan,
  registerInspect,
];
