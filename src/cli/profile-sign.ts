/**
 * `orchard profile sign --in FILE --cert PEM --key PEM [--chain PEM] --out FILE`: CMS SignedData
 * (DER) with the profile attached. Also holds the file helpers the sign, verify, encrypt and
 * inspect subcommands share.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { Option, type Command } from 'commander';
import { certificatesFromPem, toCertificate } from '../index.js';
import type { DigestName } from '../index.js';
import { CryptoError } from '../index.js';
import { signProfile } from '../index.js';
import {
  isSigned,
  readInputFile,
  readPassword,
  readPrivateKeyFile,
  runAction,
  signedInput,
  writeOutputFile,
  type PasswordSource,
} from './input.js';

/** Where the password of an encrypted `--key` comes from (there is no flag carrying it). */
export const KEY_PASSWORD: PasswordSource = {
  fileFlag: '--key-password-file',
  env: 'ORCHARD_KEY_PASSWORD',
};

/** Adds `--key-password-file` to a subcommand that takes `--key`. */
export function withKeyPassword(command: Command): Command {
  return command.option(
    '--key-password-file <file>',
    `file holding the password of an encrypted --key [env ${KEY_PASSWORD.env}]`,
  );
}

/** The `--key` file with its password, from `--key-password-file` or the environment. */
export function readKey(
  path: string,
  passwordFile: string | undefined,
): string | Buffer | KeyObject {
  return readPrivateKeyFile(path, readPassword(KEY_PASSWORD, { file: passwordFile }), KEY_PASSWORD);
}

/** Reads every certificate of a PEM file (or the one certificate of a DER file). */
export function readCertificates(path: string): X509Certificate[] {
  const bytes = readInputFile(path);
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN')) return [toCertificate(bytes)];
  const certs = certificatesFromPem(text);
  if (certs.length === 0) {
    throw new CryptoError('ERR_CERT_FORMAT', `${path} holds no certificate`);
  }
  return certs;
}

interface SignFlags {
  in: string;
  cert: string;
  key: string;
  chain?: string;
  out: string;
  digest: DigestName;
  keyPasswordFile?: string;
}

function sign(flags: SignFlags): number {
  const profile = readInputFile(flags.in);
  if (isSigned(profile)) throw signedInput(flags.in, 'sign the unsigned profile');
  const [certificate, ...bundled] = readCertificates(flags.cert);
  if (certificate === undefined)
    throw new CryptoError('ERR_CERT_FORMAT', `${flags.cert} holds no certificate`);
  const chain = [...bundled, ...(flags.chain === undefined ? [] : readCertificates(flags.chain))];
  const signed = withFileNames(flags, () =>
    signProfile(profile, {
      certificate,
      privateKey: readKey(flags.key, flags.keyPasswordFile),
      chain,
      digest: flags.digest,
    }),
  );
  writeOutputFile(flags.out, signed);
  return 0;
}

/** Runs `fn`, naming the `--key` and `--cert` files in a key mismatch (nothing is written then). */
function withFileNames<T>(flags: SignFlags, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof CryptoError && error.code === 'ERR_SIGNER_KEY_MISMATCH')
      throw new CryptoError(
        error.code,
        `--key ${flags.key} is not the key of --cert ${flags.cert}: ${error.message}`,
        { cause: error },
      );
    throw error;
  }
}

/** Registers `profile sign` on the `profile` group. */
export function registerProfileSign(group: Command): void {
  const command = group
    .command('sign')
    .description('sign a profile: CMS SignedData (DER), profile attached, signer chain included')
    .requiredOption('--in <file>', 'the profile (XML or binary plist)')
    .requiredOption(
      '--cert <pem>',
      'signer certificate (PEM; more certificates after it are taken as its chain)',
    )
    .requiredOption(
      '--key <pem>',
      "signer's private key (PEM, possibly encrypted, or DER; RSA or EC)",
    );
  withKeyPassword(command)
    .option('--chain <pem>', 'intermediate certificates to include (PEM)')
    .requiredOption('--out <file>', 'where to write the signed profile (- for standard output)')
    .addOption(
      new Option('--digest <name>', 'digest algorithm')
        .choices(['sha256', 'sha384', 'sha512', 'sha1'])
        .default('sha256'),
    )
    .action((flags: SignFlags) => runAction(command, () => sign(flags)));
}
