/** `orchard serve`: the reference daemon (built by a later issue; until then it says so). */
import type { Command } from 'commander';
import { EXIT_USAGE } from './exit-codes.js';

/** Registers `orchard serve` on the program. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the MDM daemon (enrollment, check-in, SCEP, APNs, admin API)')
    .allowUnknownOption()
    .action(() => {
      process.stderr.write('orchard serve: the daemon is not built yet (see issue 7)\n');
      process.exitCode = EXIT_USAGE;
    });
}
