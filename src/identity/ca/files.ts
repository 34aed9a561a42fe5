/**
 * The CA on disk: created on first use in a data directory (RSA 4096 or ECDSA P-384 root, an RSA
 * RA when configured or when the root cannot decrypt), or imported from existing PEM files. Keys
 * are PKCS#8 PEM with mode 0600, encrypted PKCS#8 (PBES2, AES-256-CBC) when a
 * passphrase is set.
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { toCertificate, type CertificateInput, type PrivateKeyInput } from '../../crypto/keys.js';
import { createCertificateAuthority, issueCertificate } from '../../crypto/x509.js';
import { generateKeyPairOf } from '../../crypto/keys.js';
import { CertificateAuthorityError } from '../../errors.js';
import type { CaMaterial, KeyPairCertificate } from './authority.js';

/** Root key types a new CA may have (`rsa-2048` only for tests and benchmarks). */
export type CaKeyType = 'rsa-4096' | 'ec-p384' | 'rsa-2048';

/** Options of {@link openCaDirectory}. */
export interface OpenCaDirectoryOptions {
  /** Folder holding `ca.pem`, `ca.key` and optionally `ra.pem`, `ra.key`; created (0700) when absent or empty. */
  dir: string;
  /** Root key type when the CA is created; default `rsa-4096`. */
  keyType?: CaKeyType;
  /** Subject of a new root; default `CN=Orchard SCEP CA,O=Orchard`. */
  subject?: string;
  /** Encrypts new keys and decrypts existing ones. */
  passphrase?: string;
  /**
   * Use an RSA-2048 RA certificate, issued by the root: for a new CA, and for an existing one that
   * has none (e.g. after its RA files were moved away to rotate it). `'auto'` asks for one when the
   * root is larger than RSA-2048, so the cheaper RA key decrypts and signs SCEP replies. Forced for
   * an EC root, which cannot decrypt SCEP envelopes.
   */
  ra?: boolean | 'auto';
  /** Root validity for a new CA; default 3650 days. */
  validityDays?: number;
  /** Default `() => new Date()`. */
  clock?: () => Date;
}

/** Options of {@link importCa}: the root (or issuing intermediate) and key to use, and an optional RA. */
export interface ImportCaOptions {
  dir: string;
  certificate: CertificateInput;
  privateKey: PrivateKeyInput;
  /** Passphrase of an encrypted `privateKey` input, and of the files written. */
  passphrase?: string;
  ra?: { certificate: CertificateInput; privateKey: PrivateKeyInput };
}

const FILES = { cert: 'ca.pem', key: 'ca.key', raCert: 'ra.pem', raKey: 'ra.key' } as const;

function readKey(pem: string | Uint8Array, passphrase: string | undefined): KeyObject {
  try {
    return createPrivateKey(
      passphrase === undefined ? { key: Buffer.from(pem) } : { key: Buffer.from(pem), passphrase },
    );
  } catch (cause) {
    const encrypted = String(pem).includes('ENCRYPTED');
    throw encrypted
      ? new CertificateAuthorityError(
          'ERR_CA_PASSPHRASE',
          'the CA key passphrase is wrong or missing',
          { cause },
        )
      : new CertificateAuthorityError('ERR_CA_KEY', 'the CA key file is unreadable', { cause });
  }
}

function keyPem(key: KeyObject, passphrase: string | undefined): string {
  return (
    passphrase === undefined
      ? key.export({ type: 'pkcs8', format: 'pem' })
      : key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
  ).toString();
}

function checkPair(pair: KeyPairCertificate, what: string): KeyPairCertificate {
  if (!createPublicKey(pair.privateKey).equals(pair.certificate.publicKey))
    throw new CertificateAuthorityError(
      'ERR_CA_KEY',
      `the ${what} key does not match its certificate`,
    );
  return pair;
}

async function writeNew(path: string, data: string, mode: number): Promise<void> {
  await writeFile(path, data, { mode, flag: 'wx' });
}

/**
 * Writes the material into a fresh private folder beside `dir`, then renames it into place: a
 * reader never sees half a CA, and of two concurrent first starts exactly one rename wins (a
 * rename onto a non-empty folder fails). Resolves false when another CA got there first.
 */
async function publish(
  dir: string,
  m: CaMaterial,
  passphrase: string | undefined,
): Promise<boolean> {
  await mkdir(dirname(dir), { recursive: true });
  const tmp = await mkdtemp(join(dirname(dir), '.orchard-ca-'));
  try {
    await writeMaterial(tmp, m, passphrase);
    await rename(tmp, dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function load(dir: string, passphrase: string | undefined): Promise<CaMaterial | undefined> {
  const [cert, key, raCert, raKey] = await Promise.all(
    [FILES.cert, FILES.key, FILES.raCert, FILES.raKey].map((f) => readOptional(join(dir, f))),
  );
  if (cert === undefined || key === undefined) return undefined;
  const material: CaMaterial = checkPair(
    { certificate: new X509Certificate(cert), privateKey: readKey(key, passphrase) },
    'CA',
  );
  if (raCert !== undefined && raKey !== undefined) {
    material.ra = checkPair(
      { certificate: new X509Certificate(raCert), privateKey: readKey(raKey, passphrase) },
      'RA',
    );
  }
  return material;
}

async function createRa(ca: KeyPairCertificate, now: Date): Promise<KeyPairCertificate> {
  const { privateKey, publicKey } = await generateKeyPairOf('rsa-2048');
  const certificate = await issueCertificate({
    publicKey,
    subject: 'CN=Orchard SCEP RA,O=Orchard',
    issuer: ca,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(
      Math.min(now.getTime() + 730 * 86_400_000, Date.parse(ca.certificate.validTo)),
    ),
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extendedKeyUsage: [],
  });
  return { certificate, privateKey };
}

async function writeMaterial(
  dir: string,
  m: CaMaterial,
  passphrase: string | undefined,
): Promise<void> {
  await writeNew(join(dir, FILES.key), keyPem(m.privateKey, passphrase), 0o600);
  await writeNew(join(dir, FILES.cert), m.certificate.toString(), 0o644);
  if (m.ra) {
    await writeNew(join(dir, FILES.raKey), keyPem(m.ra.privateKey, passphrase), 0o600);
    await writeNew(join(dir, FILES.raCert), m.ra.certificate.toString(), 0o644);
  }
}

/** Whether a CA with this root key needs an RA under the `ra` option. */
function wantsRa(option: OpenCaDirectoryOptions['ra'], root: KeyObject): boolean {
  if (option === true || root.asymmetricKeyType !== 'rsa') return true;
  return option === 'auto' && (root.asymmetricKeyDetails?.modulusLength ?? 0) > 2048;
}

/**
 * Issues an RA for an existing CA and places its files: the key is linked into place first (a
 * link fails when the name exists, so of two processes exactly one wins), then the certificate.
 * The loser waits for the winner's certificate and uses that RA.
 */
async function addRa(
  dir: string,
  ca: CaMaterial,
  options: OpenCaDirectoryOptions,
  now: Date,
): Promise<KeyPairCertificate> {
  const ra = await createRa(ca, now);
  const tmp = await mkdtemp(join(dir, '.orchard-ra-'));
  try {
    await writeNew(join(tmp, FILES.raKey), keyPem(ra.privateKey, options.passphrase), 0o600);
    await writeNew(join(tmp, FILES.raCert), ra.certificate.toString(), 0o644);
    try {
      await link(join(tmp, FILES.raKey), join(dir, FILES.raKey));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return await waitForRa(dir, options.passphrase);
    }
    await link(join(tmp, FILES.raCert), join(dir, FILES.raCert));
    return ra;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The RA another process is placing; `ERR_CA_KEY` when its certificate never appears. */
async function waitForRa(dir: string, passphrase: string | undefined): Promise<KeyPairCertificate> {
  for (let i = 0; i < 50; i++) {
    const loaded = await load(dir, passphrase);
    if (loaded?.ra) return loaded.ra;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new CertificateAuthorityError(
    'ERR_CA_KEY',
    `${join(dir, FILES.raKey)} exists without ${FILES.raCert}: remove it to issue a new RA`,
  );
}

/**
 * Loads the CA from `dir`, creating it on first use. Resolves to its material and whether it was
 * created. Throws `ERR_CA_PASSPHRASE` for a wrong passphrase, `ERR_CA_KEY` for a key that does
 * not match its certificate.
 */
export async function openCaDirectory(
  options: OpenCaDirectoryOptions,
): Promise<CaMaterial & { created: boolean }> {
  const existing = await load(options.dir, options.passphrase);
  if (existing) {
    if (existing.ra === undefined && wantsRa(options.ra, existing.privateKey))
      existing.ra = await addRa(options.dir, existing, options, options.clock?.() ?? new Date());
    return { ...existing, created: false };
  }
  const keyType = options.keyType ?? 'rsa-4096';
  const now = options.clock?.() ?? new Date();
  const root = await createCertificateAuthority({
    subject: options.subject ?? 'CN=Orchard SCEP CA,O=Orchard',
    keyType,
    now,
    validityDays: options.validityDays ?? 3650,
  });
  const material: CaMaterial = { ...root };
  if (wantsRa(options.ra, root.privateKey)) material.ra = await createRa(root, now);
  if (await publish(options.dir, material, options.passphrase))
    return { ...material, created: true };
  const winner = await load(options.dir, options.passphrase);
  if (winner) return { ...winner, created: false };
  throw new CertificateAuthorityError('ERR_CA_KEY', `${options.dir} is not empty and holds no CA`);
}

/**
 * Writes an existing CA (and RA) into a new or empty `dir` after checking each key matches its
 * certificate. Throws `ERR_CA_KEY` on a mismatch or when `dir` is not empty.
 */
export async function importCa(options: ImportCaOptions): Promise<CaMaterial> {
  const pair = (c: CertificateInput, k: PrivateKeyInput, what: string): KeyPairCertificate =>
    checkPair(
      {
        certificate: toCertificate(c),
        privateKey:
          k instanceof Uint8Array || typeof k === 'string' ? readKey(k, options.passphrase) : k,
      },
      what,
    );
  const material: CaMaterial = pair(options.certificate, options.privateKey, 'CA');
  if (options.ra) material.ra = pair(options.ra.certificate, options.ra.privateKey, 'RA');
  if (material.privateKey.asymmetricKeyType !== 'rsa' && material.ra === undefined)
    throw new CertificateAuthorityError(
      'ERR_CA_KEY',
      'an EC CA needs an RSA RA certificate for SCEP',
    );
  if (!(await publish(options.dir, material, options.passphrase)))
    throw new CertificateAuthorityError('ERR_CA_KEY', 'the directory is not empty');
  return material;
}
