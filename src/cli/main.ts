/**
 * The `orchard` command line. Each subcommand lives in its own file and registers
 * itself on the program; exit codes are 0 on success, 1 on a problem with the input
 * and 2 on misuse. A usage error prints one line and a hint, never the whole help.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAdmins } from './admins.js';
import { registerApiKey } from './apikey.js';
import { registerCommand } from './command.js';
import { registerDb } from './db.js';
import { registerEnroll } from './enroll.js';
import { EXIT_USAGE } from './exit-codes.js';
import { usageLines } from './input.js';
import { registerProfile } from './profile.js';
import { registerPush } from './push.js';
import { registerSecrets } from './secrets.js';
import { registerServe } from './serve.js';
import { registerSim } from './sim.js';
import { registerUsers } from './users.js';

/** The version in package.json, which sits two levels above this file in src/ and dist/ alike. */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** Commander's `error: unknown option '--jsn'\n(Did you mean --json?)` as one line. */
const oneLine = (text: string): string =>
  text
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();

/** Makes commander's own usage errors one line plus `Try 'orchard <cmd> --help'.`, on every command. */
function oneLineUsageErrors(command: Command): void {
  command.configureOutput({
    outputError: (text, write) => {
      write(usageLines(command, oneLine(text)));
    },
  });
  for (const sub of command.commands) oneLineUsageErrors(sub);
}

/** Builds the `orchard` program with every subcommand registered. */
export function createProgram(): Command {
  const program = new Command('orchard')
    .description('Apple MDM server toolkit: daemon, profiles, push and certificate tools')
    .version(packageVersion(), '-V, --version', 'print the package version')
    .exitOverride();
  registerServe(program);
  registerApiKey(program);
  registerAdmins(program);
  registerUsers(program);
  registerEnroll(program);
  registerCommand(program);
  registerDb(program);
  registerPush(program);
  registerProfile(program);
  registerSecrets(program);
  registerSim(program);
  oneLineUsageErrors(program);
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
      // Help shown because no subcommand was given is misuse; `orchard help` is not.
      if (error.code === 'commander.help') return error.exitCode === 0 ? 0 : EXIT_USAGE;
      return EXIT_USAGE;
    }
    throw error;
  }
}
