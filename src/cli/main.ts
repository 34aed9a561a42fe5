/**
 * The `orchard` command line. Each subcommand lives in its own file and registers
 * itself on the program; exit codes are 0 on success, 1 on a problem with the input
 * and 2 on misuse.
 */
import { Command, CommanderError } from 'commander';
import { registerApiKey } from './apikey.js';
import { registerCommand } from './command.js';
import { registerEnroll } from './enroll.js';
import { EXIT_USAGE } from './exit-codes.js';
import { registerProfile } from './profile.js';
import { registerPush } from './push.js';
import { registerSecrets } from './secrets.js';
import { registerServe } from './serve.js';

/** Builds the `orchard` program with every subcommand registered. */
export function createProgram(): Command {
  const program = new Command('orchard')
    .description('Apple MDM server toolkit: daemon, profiles, push and certificate tools')
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerApiKey(program);
  registerEnroll(program);
  registerCommand(program);
  registerPush(program);
  registerProfile(program);
  registerSecrets(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      if (error.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    throw error;
  }
}
