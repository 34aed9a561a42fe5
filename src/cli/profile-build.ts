/** `orchard profile build --spec FILE --out FILE`: a .mobileconfig from a JSON or YAML spec. */
import { writeFileSync } from 'node:fs';
import { Option } from 'commander';
import type { Command } from 'commander';
import { ValidationError } from '../errors.js';
import { buildProfileFile } from '../profile/build.js';
import { parseProfileSpec } from '../profile/spec.js';
import { EXIT_INPUT } from './exit-codes.js';
import { formatIssues, inputProblem, readInput } from './profile-output.js';

interface BuildOptions {
  spec: string;
  out: string;
  format: 'xml' | 'binary';
  validate: boolean;
}

function build(options: BuildOptions): number {
  const text = readInput(options.spec);
  if (typeof text === 'string') {
    process.stderr.write(`orchard profile build: ${text}\n`);
    return EXIT_INPUT;
  }
  try {
    const spec = parseProfileSpec(
      text.toString('utf8'),
      options.spec.endsWith('.json') ? 'json' : 'yaml',
    );
    const file = buildProfileFile(spec, { format: options.format, validate: options.validate });
    if (options.out === '-') process.stdout.write(file);
    else writeFileSync(options.out, file);
    return 0;
  } catch (error) {
    if (error instanceof ValidationError) {
      process.stderr.write(
        `orchard profile build: ${options.spec}: ${error.message}\n${formatIssues(error.issues)}`,
      );
    } else {
      process.stderr.write(`orchard profile build: ${inputProblem(error)}\n`);
    }
    return EXIT_INPUT;
  }
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
    .action((options: BuildOptions) => {
      process.exitCode = build(options);
    });
}
