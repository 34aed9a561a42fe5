/**
 * `orchard profile sign --in FILE --cert PEM --key PEM [--chain PEM] --out FILE`: CMS SignedData
 * (DER) with the profile attached. Also holds the file helpers the sign, verify, encrypt and
 * inspect subcommands share.
 */
import type { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { certificatesFromPem, toCertificate } from '../crypto/keys.js';
import type { DigestName } from '../crypto/oids.js';
import { CryptoError, OrchardError } from '../errors.js';
import { signProfile } from '../profile/sign.js';
import { EXIT_INPUT } from './exit-codes.js';

/** A problem with a file named on the command line; exits 1 with its message. */
class InputFileError extends Error {}

/**
 * Runs a subcommand body and returns its exit code: `OrchardError`s and unreadable or unwritable
 * files print `orchard profile <name>: ...` on stderr and give 1; anything else is a bug and is rethrown.
 */
export function runProfileCommand(name: string, body: () => number): number {
  try {
    return body();
  } catch (error) {
    let message: string;
    if (error instanceof OrchardError) message = `${error.message} [${error.code}]`;
    else if (error instanceof InputFileError) message = error.message;
    else throw error;
    process.stderr.write(`orchard profile ${name}: ${message}\n`);
    return EXIT_INPUT;
  }
}

/** Reads a whole file; throws an input error naming the file when it cannot. */
export function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InputFileError(
      `cannot read ${path} (${(error as { code?: string }).code ?? 'error'})`,
    );
  }
}

/** Writes `data` to `path`, or to standard output when `path` is `-`. */
export function writeOutput(path: string, data: Uint8Array): void {
  if (path === '-') {
    process.stdout.write(data);
    return;
  }
  try {
    writeFileSync(path, data);
  } catch (error) {
    throw new InputFileError(
      `cannot write ${path} (${(error as { code?: string }).code ?? 'error'})`,
    );
  }
}

/** Reads every certificate of a PEM file (or the one certificate of a DER file). */
export function readCertificates(path: string): X509Certificate[] {
  const bytes = readBytes(path);
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN')) return [toCertificate(bytes)];
  const certs = certificatesFromPem(text);
  if (certs.length === 0) {
    throw new CryptoError('ERR_CERT_FORMAT', `${path} holds no certificate`);
  }
  return certs;
}

/** Reads a private key file as PEM text, or as DER bytes when it is not PEM. */
export function readKey(path: string): string | Buffer {
  const bytes = readBytes(path);
  return bytes.includes('-----BEGIN') ? bytes.toString('utf8') : bytes;
}

interface SignFlags {
  in: string;
  cert: string;
  key: string;
  chain?: string;
  out: string;
  digest: DigestName;
}

function sign(flags: SignFlags): number {
  const profile = readBytes(flags.in);
  const [certificate, ...bundled] = readCertificates(flags.cert);
  if (certificate === undefined)
    throw new CryptoError('ERR_CERT_FORMAT', `${flags.cert} holds no certificate`);
  const chain = [...bundled, ...(flags.chain === undefined ? [] : readCertificates(flags.chain))];
  const signed = withFileNames(flags, () =>
    signProfile(profile, {
      certificate,
      privateKey: readKey(flags.key),
      chain,
      digest: flags.digest,
    }),
  );
  writeOutput(flags.out, signed);
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
  group
    .command('sign')
    .description('sign a profile: CMS SignedData (DER), profile attached, signer chain included')
    .requiredOption('--in <file>', 'the profile (XML or binary plist)')
    .requiredOption(
      '--cert <pem>',
      'signer certificate (PEM; more certificates after it are taken as its chain)',
    )
    .requiredOption('--key <pem>', "signer's private key (PEM or DER; RSA or EC)")
    .option('--chain <pem>', 'intermediate certificates to include (PEM)')
    .requiredOption('--out <file>', 'where to write the signed profile (- for standard output)')
    .addOption(
      new Option('--digest <name>', 'digest algorithm')
        .choices(['sha256', 'sha384', 'sha512', 'sha1'])
        .default('sha256'),
    )
    .action((flags: SignFlags) => {
      process.exitCode = runProfileCommand('sign', () => sign(flags));
    });
}
