/**
 * `orchard profile inspect --in FILE [--key PEM --cert PEM] [--ca PEM]`: prints any profile
 * (plain XML or binary, signed, encrypted) as readable JSON, with or without `--json`. Exits 1 when a signature does not
 * verify or, with `--ca`, does not chain; the JSON is printed either way.
 */
import type { Command } from 'commander';
import { inspectProfile, toReadableJson } from '../index.js';
import { EXIT_INPUT } from './exit-codes.js';
import { readInputFile, runAction } from './input.js';
import { readCertificates, readKey, withKeyPassword } from './profile-sign.js';

interface InspectFlags {
  in: string;
  key?: string;
  keyPasswordFile?: string;
  cert?: string;
  ca?: string[];
}

function inspect(flags: InspectFlags): number {
  const input = readInputFile(flags.in);
  const certificate = flags.cert === undefined ? undefined : readCertificates(flags.cert)[0];
  const roots = flags.ca?.flatMap((path) => readCertificates(path));
  const result = inspectProfile(input, {
    ...(flags.key === undefined ? {} : { privateKey: readKey(flags.key, flags.keyPasswordFile) }),
    ...(certificate === undefined ? {} : { certificate }),
    ...(roots === undefined ? {} : { roots }),
  });
  process.stdout.write(`${JSON.stringify(toReadableJson(result), null, 2)}\n`);
  const signature = result.signature;
  if (signature !== undefined && (!signature.valid || signature.trusted === false)) {
    const why = signature.valid
      ? (signature.trustError ?? 'untrusted')
      : (signature.error ?? 'invalid');
    process.stderr.write(`orchard profile inspect: the signature does not hold [${why}]\n`);
    return EXIT_INPUT;
  }
  return 0;
}

/** Registers `profile inspect` on the `profile` group. */
export function registerProfileInspect(group: Command): void {
  const command = group
    .command('inspect')
    .description(
      'print a plain, signed or encrypted profile as JSON (data as base64, dates ISO 8601)',
    )
    .requiredOption('--in <file>', 'the profile (XML or binary plist, or DER CMS)')
    .option('--key <pem>', "the device's private key, to decrypt EncryptedPayloadContent");
  withKeyPassword(command)
    .option('--cert <pem>', "the device's certificate, to pick its recipient")
    .option(
      '--ca <pem>',
      'trusted root(s) to check the signer against (repeatable)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--json', 'print JSON (what this command always prints; accepted for scripts)')
    .action((flags: InspectFlags) => runAction(command, () => inspect(flags)));
}
