/**
 * A throw-away PKI made with the real openssl CLI for the profile signing, encryption and CLI
 * tests: a root and an intermediate CA, RSA and ECDSA signers under the intermediate, a foreign
 * root, and an RSA device identity for encryption. Everything lives in one tmp dir.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlistDict } from '../../src/protocol/plist.js';

/** Runs openssl with `args` in `cwd`; rejects with its stderr on failure. */
export async function openssl(
  cwd: string,
  args: string[],
  input?: Buffer,
): Promise<{ stdout: Buffer; stderr: string }> {
  const child = execFile('openssl', args, { cwd, encoding: 'buffer', maxBuffer: 64 << 20 });
  const done = new Promise<{ stdout: Buffer; stderr: string }>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr });
      else reject(new Error(`openssl ${args.join(' ')} exited ${String(code)}: ${stderr}`));
    });
  });
  child.stdin?.end(input);
  return done;
}

/**
 * Writes `signed` to `name` in the PKI's folder and runs `openssl cms|smime -verify -inform DER`
 * on it against `caPath` (default: the test root); rejects when openssl refuses it.
 */
export async function opensslVerify(
  pki: TestPki,
  name: string,
  signed: Uint8Array,
  options: { tool?: 'cms' | 'smime'; caPath?: string } = {},
): Promise<{ stdout: Buffer; stderr: string }> {
  const file = join(pki.dir, name);
  await writeFile(file, signed);
  const ca = options.caPath ?? pki.root.certPath;
  return openssl(pki.dir, [
    options.tool ?? 'cms',
    '-verify',
    '-inform',
    'DER',
    '-in',
    file,
    '-CAfile',
    ca,
    '-purpose',
    'any',
  ]);
}

/** One certificate and its key, as PEM text and as file paths. */
export interface Identity {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

/** The PKI the tests use. */
export interface TestPki {
  dir: string;
  root: Identity;
  intermediate: Identity;
  rsaSigner: Identity;
  ecSigner: Identity;
  foreignRoot: Identity;
  device: Identity;
  otherDevice: Identity;
  /** Removes the tmp dir. */
  cleanup(): Promise<void>;
}

const EXT = [
  '[ca]',
  'basicConstraints=critical,CA:TRUE',
  'keyUsage=critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
  '[leaf]',
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
  '',
].join('\n');

async function keyFor(dir: string, name: string, type: 'rsa' | 'ec'): Promise<void> {
  const args =
    type === 'rsa'
      ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
      : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  await openssl(dir, [...args, '-out', `${name}.key`]);
}

async function load(dir: string, name: string): Promise<Identity> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return {
    cert: await readFile(certPath, 'utf8'),
    key: await readFile(keyPath, 'utf8'),
    certPath,
    keyPath,
  };
}

async function selfSigned(dir: string, name: string): Promise<Identity> {
  await keyFor(dir, name, 'rsa');
  await openssl(dir, [
    'req',
    '-new',
    '-x509',
    '-key',
    `${name}.key`,
    '-subj',
    `/CN=Orchard Test ${name}`,
    '-days',
    '3650',
    '-out',
    `${name}.crt`,
    '-config',
    'ext.cnf',
    '-extensions',
    'ca',
  ]);
  return load(dir, name);
}

async function issued(
  dir: string,
  name: string,
  issuer: string,
  type: 'rsa' | 'ec',
  profile: 'ca' | 'leaf',
): Promise<Identity> {
  await keyFor(dir, name, type);
  await openssl(dir, [
    'req',
    '-new',
    '-key',
    `${name}.key`,
    '-subj',
    `/CN=Orchard Test ${name}`,
    '-out',
    `${name}.csr`,
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${issuer}.crt`,
    '-CAkey',
    `${issuer}.key`,
    '-CAcreateserial',
    '-days',
    '825',
    '-out',
    `${name}.crt`,
    '-extfile',
    'ext.cnf',
    '-extensions',
    profile,
  ]);
  return load(dir, name);
}

/** Creates the PKI in a fresh tmp dir (about a second of openssl work). */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'orchard-profile-'));
  await writeFile(join(dir, 'ext.cnf'), EXT);
  const root = await selfSigned(dir, 'root');
  const foreignRoot = await selfSigned(dir, 'foreign');
  const intermediate = await issued(dir, 'intermediate', 'root', 'rsa', 'ca');
  const [rsaSigner, ecSigner, device, otherDevice] = await Promise.all([
    issued(dir, 'rsa-signer', 'intermediate', 'rsa', 'leaf'),
    issued(dir, 'ec-signer', 'intermediate', 'ec', 'leaf'),
    issued(dir, 'device', 'root', 'rsa', 'leaf'),
    issued(dir, 'other-device', 'root', 'rsa', 'leaf'),
  ]);
  return {
    dir,
    root,
    intermediate,
    rsaSigner,
    ecSigner,
    foreignRoot,
    device,
    otherDevice,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A small but realistic profile: a Wi-Fi payload and a restrictions payload. */
export function sampleProfile(): PlistDict {
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.orchard.test',
    PayloadUUID: '6A1C4D3E-0F2B-4C5D-8E9F-0A1B2C3D4E5F',
    PayloadDisplayName: 'Orchard test profile',
    PayloadContent: [
      {
        PayloadType: 'com.apple.wifi.managed',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.orchard.test.wifi',
        PayloadUUID: '11111111-2222-4333-8444-555555555555',
        SSID_STR: 'Orchard Corp',
        AutoJoin: true,
        EncryptionType: 'WPA2',
      },
      {
        PayloadType: 'com.apple.applicationaccess',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.orchard.test.restrictions',
        PayloadUUID: '66666666-7777-4888-8999-AAAAAAAAAAAA',
        allowCamera: false,
      },
    ],
  };
}
