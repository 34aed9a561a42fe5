/**
 * `orchard push csr` and `orchard push inspect`: getting and checking the MDM push certificate.
 * Passwords come from a flag (which `ps` shows), a `--…-password-file` or an `ORCHARD_*` variable.
 */
import type { Command } from 'commander';
import { KeyObject } from 'node:crypto';
import { CryptoError } from '../index.js';
import { loadPushCertificate, summarizePushCertificate } from '../index.js';
import { createPushCsr, signPushCsr } from '../index.js';
import { EXIT_INPUT } from './exit-codes.js';
import {
  InputProblem,
  readInputFile,
  readPassword,
  readPrivateKeyFile,
  runAction,
  UsageProblem,
  writeOutputFile,
  type PasswordSource,
} from './input.js';

/** The password of the vendor's key: `--vendor-key-password`, its file, or the environment. */
const VENDOR_KEY_PASSWORD: PasswordSource = {
  flag: '--vendor-key-password',
  fileFlag: '--vendor-key-password-file',
  env: 'ORCHARD_VENDOR_KEY_PASSWORD',
};

/** The PKCS#12 password: `--password`, its file, or the variable `orchard serve` reads too. */
const P12_PASSWORD: PasswordSource = {
  flag: '--password',
  fileFlag: '--password-file',
  env: 'ORCHARD_PUSH_P12_PASSWORD',
};

interface CsrFlags {
  key?: string;
  csr?: string;
  fromCsr?: string;
  cn: string;
  email?: string;
  org?: string;
  country?: string;
  vendorCert?: string;
  vendorKey?: string;
  vendorKeyPassword?: string;
  vendorKeyPasswordFile?: string;
  vendorChain?: string;
  request?: string;
  sha1?: boolean;
  force?: boolean;
  json?: boolean;
}

interface InspectFlags {
  key?: string;
  password?: string;
  passwordFile?: string;
}

/**
 * Writes a file the command creates (never overwriting one without `--force`), says so unless
 * the output is JSON, and records it in `wrote` under `name`.
 */
function write(
  flags: CsrFlags,
  wrote: Record<string, string>,
  name: 'key' | 'csr' | 'request',
  data: string,
): void {
  const path = flags[name] as string;
  const mode = name === 'key' ? 0o600 : 0o644;
  writeOutputFile(path, data, { mode, flag: flags.force === true ? 'w' : 'wx' });
  wrote[name] = path;
  if (flags.json !== true) process.stdout.write(`wrote ${path}\n`);
}

function newCsr(flags: CsrFlags): { privateKeyPem: string; csrPem: string } {
  try {
    return createPushCsr({
      commonName: flags.cn,
      ...(flags.email === undefined ? {} : { email: flags.email }),
      ...(flags.org === undefined ? {} : { organization: flags.org }),
      ...(flags.country === undefined ? {} : { country: flags.country }),
    });
  } catch (error) {
    // An empty --cn or a --country that is not two letters.
    if (error instanceof TypeError) throw new UsageProblem(error.message);
    throw error;
  }
}

function checkCsrFlags(flags: CsrFlags): boolean {
  const vendor = flags.vendorCert !== undefined || flags.vendorKey !== undefined;
  if (
    vendor &&
    (flags.vendorCert === undefined || flags.vendorKey === undefined || flags.request === undefined)
  )
    throw new UsageProblem('--vendor-cert, --vendor-key and --request go together');
  if (flags.fromCsr === undefined && (flags.key === undefined || flags.csr === undefined))
    throw new UsageProblem(
      'give --key and --csr to create a request, or --from-csr with the vendor options',
    );
  if (flags.fromCsr !== undefined && !vendor)
    throw new UsageProblem('--from-csr needs --vendor-cert and --vendor-key');
  return vendor;
}

/** The vendor's key as unencrypted PEM, opened here so a wrong password names the file. */
function vendorKeyPem(flags: CsrFlags): string {
  const path = flags.vendorKey as string;
  const password = readPassword(VENDOR_KEY_PASSWORD, {
    value: flags.vendorKeyPassword,
    file: flags.vendorKeyPasswordFile,
  });
  const key = readPrivateKeyFile(path, password, VENDOR_KEY_PASSWORD);
  if (typeof key === 'string') return key;
  if (key instanceof KeyObject) return key.export({ format: 'pem', type: 'pkcs8' }).toString();
  throw new InputProblem(`cannot read ${path} (not a PEM private key)`);
}

function runCsr(flags: CsrFlags): number {
  const vendor = checkCsrFlags(flags);
  const wrote: Record<string, string> = {};
  let csrPem: string;
  if (flags.fromCsr !== undefined) csrPem = readInputFile(flags.fromCsr).toString('utf8');
  else {
    const made = newCsr(flags);
    write(flags, wrote, 'key', made.privateKeyPem);
    write(flags, wrote, 'csr', made.csrPem);
    csrPem = made.csrPem;
  }
  if (vendor) {
    const signed = signPushCsr({
      csrPem,
      vendorCertPem: readInputFile(flags.vendorCert as string).toString('utf8'),
      vendorKeyPem: vendorKeyPem(flags),
      ...(flags.vendorChain === undefined
        ? {}
        : { chainPem: readInputFile(flags.vendorChain).toString('utf8') }),
      hash: flags.sha1 === true ? 'sha1' : 'sha256',
    });
    write(flags, wrote, 'request', signed.request);
  }
  const upload = 'upload it at https://identity.apple.com/pushcert\n';
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify({ wrote })}\n`);
    if (vendor) process.stderr.write(upload);
  } else if (vendor) process.stdout.write(upload);
  return 0;
}

/** The certificate (PEM) of a push certificate file, checked against its key when one is given. */
function pushCertificatePem(file: string, data: Buffer, flags: InspectFlags): string {
  const isPem = data.includes('-----BEGIN');
  if (isPem && flags.key === undefined) return data.toString('utf8');
  let password: string | undefined;
  if (!isPem) {
    password = readPassword(P12_PASSWORD, { value: flags.password, file: flags.passwordFile });
    if (password === undefined)
      throw new UsageProblem(
        `cannot read ${file} (a PKCS#12 file: give --password-file FILE or ${P12_PASSWORD.env})`,
      );
  }
  const source =
    password === undefined
      ? { certPem: data, keyPem: readInputFile(flags.key as string) }
      : { pkcs12: data, password };
  try {
    return loadPushCertificate(source, { allowExpired: true }).certPem;
  } catch (error) {
    if (error instanceof CryptoError && error.code === 'ERR_PKCS12') {
      // node-forge says so when the MAC (keyed by the password) does not verify.
      const wrong = /invalid password/i.test(String((error.cause as Error | undefined)?.message));
      throw new InputProblem(
        `cannot read ${file} (${wrong ? 'wrong password' : 'not a PKCS#12 file, or a wrong password'})`,
      );
    }
    throw error;
  }
}

function runInspect(file: string, flags: InspectFlags): number {
  const data = readInputFile(file);
  const certPem = pushCertificatePem(file, data, flags);
  const summary = summarizePushCertificate(certPem);
  const keyChecked = data.includes('-----BEGIN') && flags.key === undefined ? undefined : true;
  process.stdout.write(`${JSON.stringify({ ...summary, keyMatches: keyChecked }, null, 2)}\n`);
  if (summary.topic !== undefined) return 0;
  process.stderr.write(
    'orchard push inspect: the certificate has no subject UID (topic): not an MDM push certificate\n',
  );
  return EXIT_INPUT;
}

/** Registers `orchard push csr` and `orchard push inspect` on the program. */
export function registerPush(program: Command): void {
  const push = program.command('push').description('APNs push certificate tools');
  const csr = push
    .command('csr')
    .description(
      'create the push certificate request (RSA 2048 key, 0600) and optionally sign it as the MDM vendor',
    )
    .option('--key <file>', 'where to write the new private key (PEM, mode 0600)')
    .option('--csr <file>', 'where to write the certificate request (PEM)')
    .option('--cn <name>', 'subject common name', 'Orchard MDM Push')
    .option('--email <address>', 'subject e-mail address')
    .option('--org <name>', 'subject organization')
    .option('--country <cc>', 'subject two-letter country')
    .option(
      '--from-csr <file>',
      'vendor mode: sign this existing customer CSR instead of creating one',
    )
    .option(
      '--vendor-cert <file>',
      "vendor's MDM CSR signing certificate (PEM, may include its chain)",
    )
    .option('--vendor-key <file>', "vendor's private key (PEM, possibly encrypted)")
    .option('--vendor-key-password <pw>', "passphrase of the vendor's key (shows in ps)")
    .option(
      '--vendor-key-password-file <file>',
      `file holding that passphrase [env ${VENDOR_KEY_PASSWORD.env}]`,
    )
    .option('--vendor-chain <file>', 'Apple WWDR intermediate and root (PEM)')
    .option('--request <file>', 'where to write the base64 request to upload to Apple')
    .option('--sha1', 'sign with SHA-1 instead of SHA-256')
    .option('--force', 'overwrite existing files')
    .option('--json', 'print the files written as JSON')
    .action((flags: CsrFlags) => runAction(csr, () => runCsr(flags)));
  const inspect = push
    .command('inspect')
    .description("show a push certificate's topic and dates as JSON (PEM or .p12)")
    .argument('<file>', 'certificate (PEM) or PKCS#12 (.p12)')
    .option('--key <file>', 'private key (PEM) to check against the certificate')
    .option('--password <pw>', 'PKCS#12 password (shows in ps)')
    .option('--password-file <file>', `file holding the PKCS#12 password [env ${P12_PASSWORD.env}]`)
    .option('--json', 'print JSON (what this command always prints; accepted for scripts)')
    .action((file: string, flags: InspectFlags) =>
      runAction(inspect, () => runInspect(file, flags)),
    );
}
