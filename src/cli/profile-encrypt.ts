/**
 * `orchard profile encrypt --in FILE --recipient CERT --out FILE`: moves the payloads into
 * `EncryptedPayloadContent` for one device's identity certificate.
 */
import { Option, type Command } from 'commander';
import { ProfileError } from '../index.js';
import { encodePlist } from '../index.js';
import { encryptProfile } from '../index.js';
import { looksLikePlist } from '../index.js';
import { isSigned, readInputFile, runAction, signedInput, writeOutputFile } from './input.js';
import { readCertificates } from './profile-sign.js';

interface EncryptFlags {
  in: string;
  recipient: string;
  out: string;
  format: 'xml' | 'binary';
  keyTransport: 'rsa-pkcs1' | 'rsa-oaep';
  cipher: 'aes-256-cbc' | 'aes-128-cbc';
}

function encrypt(flags: EncryptFlags): number {
  const input = readInputFile(flags.in);
  if (isSigned(input))
    throw signedInput(flags.in, 'encrypt the unsigned profile, then sign the result');
  if (!looksLikePlist(input))
    throw new ProfileError('ERR_PROFILE_FORMAT', `${flags.in} is not a property list`);
  const [recipient] = readCertificates(flags.recipient);
  if (recipient === undefined) throw new TypeError('no recipient certificate');
  const encrypted = encryptProfile(input, {
    recipient,
    keyTransport: flags.keyTransport,
    cipher: flags.cipher,
  });
  writeOutputFile(flags.out, encodePlist(encrypted, { format: flags.format }));
  return 0;
}

/** Registers `profile encrypt` on the `profile` group. */
export function registerProfileEncrypt(group: Command): void {
  group
    .command('encrypt')
    .description("encrypt a profile's payloads for one device (EncryptedPayloadContent)")
    .requiredOption('--in <file>', 'the unsigned profile (XML or binary plist)')
    .requiredOption('--recipient <cert>', "the device's identity certificate (PEM or DER, RSA)")
    .requiredOption('--out <file>', 'where to write the encrypted profile (- for standard output)')
    .addOption(
      new Option('--format <format>', 'plist format of the output')
        .choices(['xml', 'binary'])
        .default('xml'),
    )
    .addOption(
      new Option('--key-transport <kt>', 'RSA key transport')
        .choices(['rsa-pkcs1', 'rsa-oaep'])
        .default('rsa-pkcs1'),
    )
    .addOption(
      new Option('--cipher <cipher>', 'content cipher')
        .choices(['aes-256-cbc', 'aes-128-cbc'])
        .default('aes-256-cbc'),
    )
    .action((flags: EncryptFlags, command: Command) => runAction(command, () => encrypt(flags)));
}
