import { Command, CommanderError } from 'commander';
import { WorkbenchError } from '../../shared/errors';
import { commands } from './commands';

/**
 * The `densenet-workbench` command. Each subcommand lives in ./commands/<name>.ts and registers
 * itself on the program; this file only wires them up and maps errors to exit codes:
 * user errors (WorkbenchError with user=true, bad flags) exit 2 with one line and no stack trace.
 */
export function buildProgram(): Command {
  const program = new Command('densenet-workbench')
    .description('Train and inspect DenseNets locally.')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; a bad flag or argument is a user error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof WorkbenchError && err.user) {
      process.stderr.write(`densenet-workbench: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`densenet-workbench: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
