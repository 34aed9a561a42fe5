/**
 * A server's key material in its data directory: the CA (created on first start, in `ca/`) and
 * the profile-signing identity (`signing/`), an RSA key with a certificate issued by that CA, so
 * a device that trusts the CA payload sees the profile verified.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPairOf, privateKeyToPem } from '../../crypto/keys.js';
import { issueCertificate } from '../../crypto/x509.js';
import type { CaMaterial } from './authority.js';
import { openCaDirectory, rootKeyPair } from './files.js';

/** The profile-signing identity and the chain to include beside it. */
export interface SigningIdentity {
  certificate: X509Certificate;
  privateKey: KeyObject;
  chain: X509Certificate[];
}

/** What {@link openPkiDirectory} resolves. */
export interface PkiDirectory {
  ca: CaMaterial;
  signing: SigningIdentity;
  /** Whether the CA and signing identity were created by this call. */
  created: boolean;
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function createSigning(dir: string, ca: CaMaterial, now: Date): Promise<SigningIdentity> {
  const { privateKey } = await generateKeyPairOf('rsa-2048');
  const certificate = await issueCertificate({
    publicKey: createPublicKey(privateKey),
    subject: 'CN=Orchard Profile Signing,O=Orchard',
    issuer: rootKeyPair(ca, 'the profile-signing identity'),
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(
      Math.min(now.getTime() + 825 * 86_400_000, Date.parse(ca.certificate.validTo)),
    ),
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: [],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'signing.key'), privateKeyToPem(privateKey), {
    mode: 0o600,
    flag: 'wx',
  });
  await writeFile(join(dir, 'signing.pem'), certificate.toString(), { mode: 0o644, flag: 'wx' });
  return { certificate, privateKey, chain: [ca.certificate] };
}

/**
 * Opens the CA and signing identity under `dataDir`, creating them on first start. Throws the
 * CA module's errors (`ERR_CA_KEY`, ...) or a file-system error when the directory is unusable.
 */
export async function openPkiDirectory(
  dataDir: string,
  keyType: 'rsa-4096' | 'ec-p384' | 'rsa-2048',
  clock: () => Date = () => new Date(),
): Promise<PkiDirectory> {
  // A root larger than RSA-2048 or EC gets an RSA-2048 RA and an RSA-2048 issuing CA (also an
  // existing one): SCEP's decryption and CertRep signature use the RA key, the issuing CA signs
  // the certificates, and the root key signs nothing per enrollment (with RSA-4096, 15 ms of CPU
  // per enrollment became 7 ms with the RA alone, and about 3 ms with both).
  const opened = await openCaDirectory({
    dir: join(dataDir, 'ca'),
    keyType,
    ra: 'auto',
    issuing: 'auto',
    clock,
  });
  const { created, ...ca } = opened;
  const dir = join(dataDir, 'signing');
  const [certPem, keyPem] = await Promise.all([
    readOptional(join(dir, 'signing.pem')),
    readOptional(join(dir, 'signing.key')),
  ]);
  if (certPem !== undefined && keyPem !== undefined) {
    const signing = {
      certificate: new X509Certificate(certPem),
      privateKey: createPrivateKey(keyPem),
      chain: [ca.certificate],
    };
    return { ca, signing, created };
  }
  return { ca, signing: await createSigning(dir, ca, clock()), created: true };
}
