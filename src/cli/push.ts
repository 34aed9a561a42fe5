/**
 * `orchard push csr` and `orchard push inspect`: getting and checking the MDM push certificate.
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { OrchardError } from '../errors.js';
import { loadPushCertificate, summarizePushCertificate } from '../push/apns/certificate.js';
import { createPushCsr, signPushCsr } from '../push/apns/csr.js';
import { EXIT_INPUT, EXIT_USAGE } from './exit-codes.js';

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
  vendorChain?: string;
  request?: string;
  sha1?: boolean;
  force?: boolean;
}

interface InspectFlags {
  key?: string;
  password?: string;
}

function fail(code: number, message: string): void {
  process.stderr.write(`orchard push: ${message}\n`);
  process.exitCode = code;
}

/** Runs `body`, turning input problems (our errors, files) into exit code 1. */
function guarded(body: () => void): void {
  try {
    body();
  } catch (error) {
    if (error instanceof OrchardError || error instanceof TypeError)
      fail(EXIT_INPUT, error.message);
    else if (
      error instanceof Error &&
      'code' in error &&
      typeof error.code === 'string' &&
      error.code.startsWith('E')
    )
      fail(EXIT_INPUT, error.message);
    else throw error;
  }
}

function write(path: string, data: string, mode: number, force: boolean): void {
  writeFileSync(path, data, { mode, flag: force ? 'w' : 'wx' });
  process.stdout.write(`wrote ${path}\n`);
}

function runCsr(flags: CsrFlags): void {
  const vendor = flags.vendorCert !== undefined || flags.vendorKey !== undefined;
  if (
    vendor &&
    (flags.vendorCert === undefined || flags.vendorKey === undefined || flags.request === undefined)
  ) {
    fail(EXIT_USAGE, '--vendor-cert, --vendor-key and --request go together');
    return;
  }
  if (flags.fromCsr === undefined && (flags.key === undefined || flags.csr === undefined)) {
    fail(
      EXIT_USAGE,
      'give --key and --csr to create a request, or --from-csr with the vendor options',
    );
    return;
  }
  if (flags.fromCsr !== undefined && !vendor) {
    fail(EXIT_USAGE, '--from-csr needs --vendor-cert and --vendor-key');
    return;
  }
  guarded(() => {
    const force = flags.force === true;
    let csrPem: string;
    if (flags.fromCsr !== undefined) csrPem = readFileSync(flags.fromCsr, 'utf8');
    else {
      const made = createPushCsr({
        commonName: flags.cn,
        ...(flags.email === undefined ? {} : { email: flags.email }),
        ...(flags.org === undefined ? {} : { organization: flags.org }),
        ...(flags.country === undefined ? {} : { country: flags.country }),
      });
      write(flags.key as string, made.privateKeyPem, 0o600, force);
      write(flags.csr as string, made.csrPem, 0o644, force);
      csrPem = made.csrPem;
    }
    if (!vendor) return;
    const signed = signPushCsr({
      csrPem,
      vendorCertPem: readFileSync(flags.vendorCert as string, 'utf8'),
      vendorKeyPem: readFileSync(flags.vendorKey as string, 'utf8'),
      ...(flags.vendorKeyPassword === undefined
        ? {}
        : { vendorKeyPassphrase: flags.vendorKeyPassword }),
      ...(flags.vendorChain === undefined
        ? {}
        : { chainPem: readFileSync(flags.vendorChain, 'utf8') }),
      hash: flags.sha1 === true ? 'sha1' : 'sha256',
    });
    write(flags.request as string, signed.request, 0o644, force);
    process.stdout.write('upload it at https://identity.apple.com/pushcert\n');
  });
}

function runInspect(file: string, flags: InspectFlags): void {
  guarded(() => {
    const data = readFileSync(file);
    const isPem = data.includes('-----BEGIN');
    if (!isPem && flags.password === undefined) {
      fail(EXIT_USAGE, 'a PKCS#12 file needs --password');
      return;
    }
    let certPem = data.toString('utf8');
    if (!isPem || flags.key !== undefined) {
      const source = isPem
        ? { certPem: data, keyPem: readFileSync(flags.key as string) }
        : { pkcs12: data, password: flags.password as string };
      certPem = loadPushCertificate(source, { allowExpired: true }).certPem;
    }
    const summary = summarizePushCertificate(certPem);
    process.stdout.write(
      `${JSON.stringify({ ...summary, keyMatches: isPem && flags.key === undefined ? undefined : true }, null, 2)}\n`,
    );
    if (summary.topic === undefined)
      fail(EXIT_INPUT, 'the certificate has no subject UID (topic): not an MDM push certificate');
  });
}

/** Registers `orchard push csr` and `orchard push inspect` on the program. */
export function registerPush(program: Command): void {
  const push = program.command('push').description('APNs push certificate tools');
  push
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
    .option('--vendor-key <file>', "vendor's private key (PEM)")
    .option('--vendor-key-password <pw>', "passphrase of the vendor's key")
    .option('--vendor-chain <file>', 'Apple WWDR intermediate and root (PEM)')
    .option('--request <file>', 'where to write the base64 request to upload to Apple')
    .option('--sha1', 'sign with SHA-1 instead of SHA-256')
    .option('--force', 'overwrite existing files')
    .action((flags: CsrFlags) => {
      runCsr(flags);
    });
  push
    .command('inspect')
    .description("show a push certificate's topic and dates (PEM or .p12)")
    .argument('<file>', 'certificate (PEM) or PKCS#12 (.p12)')
    .option('--key <file>', 'private key (PEM) to check against the certificate')
    .option('--password <pw>', 'PKCS#12 password')
    .action((file: string, flags: InspectFlags) => {
      runInspect(file, flags);
    });
}
