/**
 * The CA on disk: created on first use in a data directory (RSA 4096 or ECDSA P-384 root, an RSA
 * RA when configured or when the root cannot decrypt, an RSA-2048 issuing CA when configured), or
 * imported from existing PEM files. Keys are PKCS#8 PEM with mode 0600, encrypted PKCS#8 (PBES2,
 * AES-256-CBC) when a passphrase is set. The root key may be kept offline once an issuing CA and
 * an RA exist.
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { link, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
  /**
   * Folder holding `ca.pem`, `ca.key` and optionally `ra.pem`, `ra.key`, `issuing.pem`,
   * `issuing.key`, and `retired/*.pem` (earlier issuing CAs); created (0700) when absent or empty.
   */
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
  /**
   * Issue certificates with an RSA-2048 intermediate (`issuing.pem`, `issuing.key`, 5 years)
   * signed by the root, for a new CA and for an existing one that has none. `'auto'` asks for one
   * when the root is EC or larger than RSA-2048, so no root signature is made per enrollment
   * (RSA-4096 signs in about 4.6 ms here, RSA-2048 in about 0.7 ms). Implies an RA, so the SCEP
   * responder is never one of two CA certificates in GetCACert.
   */
  issuing?: boolean | 'auto';
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

const FILES = { cert: 'ca.pem', key: 'ca.key' } as const;

/** The certificates the root issues for itself: the RA and the issuing CA. */
type Delegate = 'ra' | 'issuer';

const DELEGATE_FILES: Record<Delegate, { cert: string; key: string; what: string }> = {
  ra: { cert: 'ra.pem', key: 'ra.key', what: 'RA' },
  issuer: { cert: 'issuing.pem', key: 'issuing.key', what: 'issuing CA' },
};
const DELEGATES = Object.keys(DELEGATE_FILES) as Delegate[];
/** Folder of earlier issuing CA certificates (rotation moves `issuing.pem` there). */
const RETIRED = 'retired';

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

/** A certificate read from `path`; `ERR_CA_FILE` naming the file when it is not one. */
function certificateFile(pem: Buffer, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (cause) {
    throw new CertificateAuthorityError('ERR_CA_FILE', `${path} is not a certificate`, { cause });
  }
}

/** The certificates in `retired/` (`*.pem`): earlier issuing CAs, kept for path building. */
async function readRetired(dir: string): Promise<X509Certificate[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, RETIRED));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const pems = names.filter((n) => n.endsWith('.pem')).sort();
  return Promise.all(
    pems.map(async (n) => {
      const path = join(dir, RETIRED, n);
      return certificateFile(await readFile(path), path);
    }),
  );
}

async function load(dir: string, passphrase: string | undefined): Promise<CaMaterial | undefined> {
  const [cert, key] = await Promise.all(
    [FILES.cert, FILES.key].map((f) => readOptional(join(dir, f))),
  );
  if (cert === undefined) return undefined;
  // Without ca.key the root is offline: usable when an issuing CA and an RA do the work.
  const certificate = certificateFile(cert, join(dir, FILES.cert));
  const material: CaMaterial =
    key === undefined
      ? { certificate }
      : checkPair({ certificate, privateKey: readKey(key, passphrase) }, 'CA');
  const retired = await readRetired(dir);
  if (retired.length > 0) material.retired = retired;
  for (const kind of DELEGATES) {
    const files = DELEGATE_FILES[kind];
    const [c, k] = await Promise.all(
      [files.cert, files.key].map((f) => readOptional(join(dir, f))),
    );
    if (c !== undefined && k !== undefined)
      material[kind] = checkPair(
        {
          certificate: certificateFile(c, join(dir, files.cert)),
          privateKey: readKey(k, passphrase),
        },
        files.what,
      );
  }
  return material;
}

/** A new RSA-2048 RA (2 years) or issuing CA (5 years) signed by the root, within its validity. */
async function createDelegate(
  kind: Delegate,
  ca: KeyPairCertificate,
  now: Date,
): Promise<KeyPairCertificate> {
  const { privateKey, publicKey } = await generateKeyPairOf('rsa-2048');
  const issuer = kind === 'issuer';
  const certificate = await issueCertificate({
    publicKey,
    subject: issuer ? 'CN=Orchard Issuing CA,O=Orchard' : 'CN=Orchard SCEP RA,O=Orchard',
    issuer: ca,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(
      Math.min(
        now.getTime() + (issuer ? 1826 : 730) * 86_400_000,
        Date.parse(ca.certificate.validTo),
      ),
    ),
    keyUsage: issuer ? ['keyCertSign', 'cRLSign'] : ['digitalSignature', 'keyEncipherment'],
    extendedKeyUsage: [],
    isCa: issuer,
    ...(issuer ? { pathLength: 0 } : {}),
  });
  return { certificate, privateKey };
}

/**
 * The root's certificate and key, for issuing an RA, an issuing CA or another identity from it.
 * Throws `ERR_CA_KEY` when the key is offline (`ca.key` absent), naming what needed it.
 */
export function rootKeyPair(material: CaMaterial, purpose: string): KeyPairCertificate {
  if (material.privateKey === undefined)
    throw new CertificateAuthorityError(
      'ERR_CA_KEY',
      `the root key (ca.key) is offline; put it back to issue ${purpose}, then remove it again`,
    );
  return { certificate: material.certificate, privateKey: material.privateKey };
}

async function writeMaterial(
  dir: string,
  m: CaMaterial,
  passphrase: string | undefined,
): Promise<void> {
  await writeNew(
    join(dir, FILES.key),
    keyPem(rootKeyPair(m, 'a CA').privateKey, passphrase),
    0o600,
  );
  await writeNew(join(dir, FILES.cert), m.certificate.toString(), 0o644);
  for (const kind of DELEGATES) {
    const pair = m[kind];
    if (pair === undefined) continue;
    const files = DELEGATE_FILES[kind];
    await writeNew(join(dir, files.key), keyPem(pair.privateKey, passphrase), 0o600);
    await writeNew(join(dir, files.cert), pair.certificate.toString(), 0o644);
  }
}

/** Whether `root` is one the `'auto'` options delegate from: EC, or RSA larger than 2048 bits. */
function costlyRoot(root: KeyObject): boolean {
  return root.asymmetricKeyType !== 'rsa' || (root.asymmetricKeyDetails?.modulusLength ?? 0) > 2048;
}

/** Which delegates a CA with this root (public) key needs under `options`. */
function wanted(options: OpenCaDirectoryOptions, root: KeyObject): Record<Delegate, boolean> {
  const pick = (option: boolean | 'auto' | undefined): boolean =>
    option === true || (option === 'auto' && costlyRoot(root));
  const issuer = pick(options.issuing);
  return { issuer, ra: issuer || pick(options.ra) || root.asymmetricKeyType !== 'rsa' };
}

/**
 * Issues an RA or issuing CA for an existing CA and places its files: the key is linked into place
 * first (a link fails when the name exists, so of two processes exactly one wins), then the
 * certificate. The loser waits for the winner's certificate and uses that one.
 */
async function addDelegate(
  kind: Delegate,
  dir: string,
  ca: CaMaterial,
  options: OpenCaDirectoryOptions,
  now: Date,
): Promise<KeyPairCertificate> {
  const files = DELEGATE_FILES[kind];
  const pair = await createDelegate(kind, rootKeyPair(ca, `a new ${files.what}`), now);
  const tmp = await mkdtemp(join(dir, `.orchard-${kind}-`));
  try {
    await writeNew(join(tmp, files.key), keyPem(pair.privateKey, options.passphrase), 0o600);
    await writeNew(join(tmp, files.cert), pair.certificate.toString(), 0o644);
    try {
      await link(join(tmp, files.key), join(dir, files.key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return await waitForDelegate(kind, dir, options.passphrase);
    }
    await link(join(tmp, files.cert), join(dir, files.cert));
    return pair;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The RA or issuing CA another process is placing; `ERR_CA_KEY` when its certificate never appears. */
async function waitForDelegate(
  kind: Delegate,
  dir: string,
  passphrase: string | undefined,
): Promise<KeyPairCertificate> {
  for (let i = 0; i < 50; i++) {
    const pair = (await load(dir, passphrase))?.[kind];
    if (pair) return pair;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const files = DELEGATE_FILES[kind];
  throw new CertificateAuthorityError(
    'ERR_CA_KEY',
    `${join(dir, files.key)} exists without ${files.cert}: remove it to issue a new ${files.what}`,
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
    const want = wanted(options, existing.certificate.publicKey);
    for (const kind of DELEGATES)
      if (want[kind] && existing[kind] === undefined)
        existing[kind] = await addDelegate(
          kind,
          options.dir,
          existing,
          options,
          options.clock?.() ?? new Date(),
        );
    if (existing.privateKey === undefined && (!existing.issuer || !existing.ra))
      throw new CertificateAuthorityError(
        'ERR_CA_KEY',
        `${join(options.dir, FILES.key)} is missing: only a CA with an issuing CA and an RA runs without its root key`,
      );
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
  const want = wanted(options, root.privateKey);
  for (const kind of DELEGATES)
    if (want[kind]) material[kind] = await createDelegate(kind, root, now);
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
  if (material.certificate.publicKey.asymmetricKeyType !== 'rsa' && material.ra === undefined)
    throw new CertificateAuthorityError(
      'ERR_CA_KEY',
      'an EC CA needs an RSA RA certificate for SCEP',
    );
  if (!(await publish(options.dir, material, options.passphrase)))
    throw new CertificateAuthorityError('ERR_CA_KEY', 'the directory is not empty');
  return material;
}
