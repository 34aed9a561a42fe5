/**
 * `orchard profile verify --in FILE [--ca PEM]`: checks the signature (and, with `--ca`, the
 * chain) and prints the signer, the chain and the inner profile as JSON (with or without `--json`).
 */
import type { Command } from 'commander';
import { summarizeCertificate, toReadableJson } from '../index.js';
import { verifyProfile } from '../index.js';
import { readInputFile, runAction } from './input.js';
import { readCertificates } from './profile-sign.js';

interface VerifyFlags {
  in: string;
  ca?: string[];
}

function verify(flags: VerifyFlags): number {
  const signed = readInputFile(flags.in);
  const roots = flags.ca?.flatMap((path) => readCertificates(path));
  const result = verifyProfile(signed, roots === undefined ? {} : { roots });
  const report = {
    signer: summarizeCertificate(result.signer),
    trusted: result.chain !== undefined,
    ...(result.chain === undefined ? {} : { chain: result.chain.map(summarizeCertificate) }),
    ...(result.signingTime === undefined ? {} : { signingTime: result.signingTime }),
    digestAlgorithm: result.digestAlgorithm,
    profile: result.profile,
  };
  process.stdout.write(`${JSON.stringify(toReadableJson(report), null, 2)}\n`);
  return 0;
}

/** Registers `profile verify` on the `profile` group. */
export function registerProfileVerify(group: Command): void {
  group
    .command('verify')
    .description('check a signed profile; print the signer, its chain and the inner profile')
    .requiredOption('--in <file>', 'the signed profile (DER CMS)')
    .option(
      '--ca <pem>',
      'trusted root(s): the signer must chain to one (repeatable; without it only the signature is checked)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--json', 'print JSON (what this command always prints; accepted for scripts)')
    .action((flags: VerifyFlags, command: Command) => runAction(command, () => verify(flags)));
}
