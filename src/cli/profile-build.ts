/** `orchard profile build --spec FILE --out FILE`: a .mobileconfig from a JSON or YAML spec. */
import { Option } from 'commander';
import type { Command } from 'commander';
import { ValidationError } from '../index.js';
import { buildProfileFile } from '../index.js';
import { parseProfileSpec } from '../index.js';
import { EXIT_INPUT } from './exit-codes.js';
import { readInputFile, runAction, writeOutputFile } from './input.js';
import { formatIssues } from './profile-output.js';

interface BuildOptions {
  spec: string;
  out: string;
  format: 'xml' | 'binary';
  validate: boolean;
}

function build(options: BuildOptions): number {
  const text = readInputFile(options.spec);
  let file: Uint8Array;
  try {
    const spec = parseProfileSpec(
      text.toString('utf8'),
      options.spec.endsWith('.json') ? 'json' : 'yaml',
    );
    file = buildProfileFile(spec, { format: options.format, validate: options.validate });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    process.stderr.write(
      `orchard profile build: ${options.spec}: ${error.message}\n${formatIssues(error.issues)}`,
    );
    return EXIT_INPUT;
  }
  writeOutputFile(options.out, file);
  return 0;
}

/** Registers `profile build` on the `profile` group. */
export function registerProfileBuild(group: Command): void {
  group
    .command('build')
    .description('build a .mobileconfig from a JSON or YAML spec (see docs/profiles.md)')
    .requiredOption('--spec <file>', 'profile spec (.json, or YAML otherwise)')
    .requiredOption('--out <file>', 'where to write the profile (- for standard output)')
    .addOption(
      new Option('--format <format>', 'plist format').choices(['xml', 'binary']).default('xml'),
    )
    .option('--no-validate', "skip the check against Apple's schema")
    .action((options: BuildOptions, command: Command) => runAction(command, () => build(options)));
}
