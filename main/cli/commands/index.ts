import type { Command } from 'commander';
import { registerScan } from './scan';

/** One entry per subcommand file. Add yours here (one line each). */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerScan,
];
