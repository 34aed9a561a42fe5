/** `orchard profile validate --in FILE [target]`: checks a profile against Apple's schema. */
import { Option } from 'commander';
import type { Command } from 'commander';
import { OrchardError } from '../index.js';
import { decodePlist } from '../index.js';
import type { PlatformCompatibility, ProfileReport } from '../index.js';
import { checkProfile } from '../index.js';
import { PLATFORMS } from '../index.js';
import type { Platform } from '../index.js';
import type { Enrollment, Target } from '../index.js';
import { isVersion } from '../index.js';
import { EXIT_INPUT } from './exit-codes.js';
import {
  InputProblem,
  isSigned,
  readInputFile,
  runAction,
  signedInput,
  UsageProblem,
} from './input.js';
import { formatIssues } from './profile-output.js';

interface ValidateOptions {
  in: string;
  platform?: Platform;
  osVersion?: string;
  supervised?: boolean;
  enrollment?: Enrollment;
  channel?: 'device' | 'user';
  sharedIpad?: boolean;
  manual?: boolean;
  json?: boolean;
}

function targetOf(o: ValidateOptions): Target | undefined {
  const targeted =
    o.osVersion ?? o.supervised ?? o.enrollment ?? o.channel ?? o.sharedIpad ?? o.manual;
  if (o.platform === undefined) {
    if (targeted !== undefined) throw new UsageProblem('target options need --platform');
    return undefined;
  }
  if (o.osVersion !== undefined && !isVersion(o.osVersion)) {
    throw new UsageProblem(`--os-version must look like 17.0, got ${o.osVersion}`);
  }
  return {
    platform: o.platform,
    ...(o.osVersion === undefined ? {} : { osVersion: o.osVersion }),
    ...(o.supervised === undefined ? {} : { supervised: o.supervised }),
    ...(o.enrollment === undefined ? {} : { enrollment: o.enrollment }),
    ...(o.channel === undefined ? {} : { channel: o.channel }),
    ...(o.sharedIpad === undefined ? {} : { sharedIPad: o.sharedIpad }),
    ...(o.manual === undefined ? {} : { manualInstall: o.manual }),
  };
}

/** One line per platform: availability, minimum version, removal and deprecation versions, verdict per mode. */
export function formatCompatibility(rows: readonly PlatformCompatibility[]): string {
  const lines = rows.map((r) => {
    if (!r.available) {
      const paths = r.problems.map((p) => p.path || '(profile)');
      const more = paths.length > 3 ? ` and ${paths.length - 3} more` : '';
      return `  ${r.platform}: not available (${paths.slice(0, 3).join(', ')}${more})`;
    }
    const modes = r.modes.map((m) => {
      const first = m.problems[0];
      return m.ok
        ? `${m.mode} yes`
        : `${m.mode} no (${first ? `${first.path}: ${first.message}` : ''})`;
    });
    const removed = r.removedIn ? `, until ${r.removedIn}` : '';
    const deprecated = r.deprecatedIn ? `, deprecated from ${r.deprecatedIn}` : '';
    return `  ${r.platform} ${r.minVersion ?? ''}+${removed}${deprecated}: ${modes.join('; ')}; manual install ${r.manualInstall ? 'yes' : 'no'}`;
  });
  return `compatibility (from Apple's schema):\n${lines.join('\n')}\n`;
}

/** The report on the profile at `path`; its own problems (not a plist, ...) name the file. */
function check(path: string, target: Target | undefined): ProfileReport {
  const input = readInputFile(path);
  if (isSigned(input))
    throw signedInput(path, 'validate the unsigned profile (`orchard profile verify` prints it)');
  try {
    return checkProfile(decodePlist(input, { preserveReals: true }), target);
  } catch (error) {
    if (!(error instanceof OrchardError)) throw error;
    throw new InputProblem(`${path}: ${error.message} [${error.code}]`);
  }
}

function validate(options: ValidateOptions, target: Target | undefined): number {
  const report = check(options.in, target);
  const errors = report.issues.filter((i) => i.severity === 'error').length;
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(formatIssues(report.issues));
    if (report.compatibility) process.stdout.write(formatCompatibility(report.compatibility));
    const warnings = report.issues.length - errors;
    process.stdout.write(`${options.in}: ${errors} error(s), ${warnings} warning(s)\n`);
  }
  return errors > 0 ? EXIT_INPUT : 0;
}

/** Registers `profile validate` on the `profile` group. */
export function registerProfileValidate(group: Command): void {
  group
    .command('validate')
    .description("check a profile against Apple's schema; exit 1 listing every problem")
    .requiredOption('--in <file>', 'profile (.mobileconfig, XML or binary plist)')
    .addOption(new Option('--platform <os>', 'target platform').choices(PLATFORMS))
    .option('--os-version <version>', 'target OS version, e.g. 17.0')
    .option('--supervised', 'target device is supervised')
    .addOption(
      new Option('--enrollment <type>', 'enrollment type').choices(['device', 'user', 'ade']),
    )
    .addOption(
      new Option('--channel <channel>', 'device or user channel').choices(['device', 'user']),
    )
    .option('--shared-ipad', 'target is a Shared iPad')
    .option('--manual', 'the user installs the profile by hand')
    .option('--json', 'print issues and compatibility as JSON')
    .action((options: ValidateOptions, command: Command) =>
      runAction(command, () => validate(options, targetOf(options))),
    );
}
