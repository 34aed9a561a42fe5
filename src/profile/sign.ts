/**
 * Signing configuration profiles: a CMS SignedData (DER) with the profile attached and the
 * signer's chain included, which is what a device shows as "Verified" when the chain is trusted.
 * See https://developer.apple.com/documentation/devicemanagement/profile-specific-payload-keys
 */
import { createHash, createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { signCms } from '../crypto/cms-sign.js';
import {
  toCertificate,
  toPrivateKey,
  type CertificateInput,
  type PrivateKeyInput,
} from '../crypto/keys.js';
import type { DigestName } from '../crypto/oids.js';
import { CryptoError, ProfileError } from '../errors.js';
import { decodePlist, encodePlist, isPlistDict, type PlistDict } from '../protocol/plist.js';

/** A profile as a decoded dictionary, or its XML or binary plist bytes (or XML text). */
export type ProfileInput = PlistDict | Uint8Array | string;

/** Options of {@link signProfile}. */
export interface SignProfileOptions {
  /** The signer's certificate (RSA or ECDSA key). */
  certificate: CertificateInput;
  privateKey: PrivateKeyInput;
  /** Intermediates to embed beside the signer, so that devices can build the path. */
  chain?: CertificateInput[];
  /** Digest; default `sha256`. */
  digest?: DigestName;
  /** The signingTime attribute; default now, `false` to leave it out. */
  signingTime?: Date | false;
}

const BPLIST = Buffer.from('bplist');

/** Whether `bytes` look like a property list (binary magic, or XML after optional BOM/whitespace). */
export function looksLikePlist(bytes: Uint8Array): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 512));
  if (buf.subarray(0, 6).equals(BPLIST)) return true;
  const text = buf
    .toString('latin1')
    .replace(/^\xef\xbb\xbf/, '')
    .trimStart();
  return text.startsWith('<?xml') || text.startsWith('<plist') || text.startsWith('<!DOCTYPE');
}

/** Whether a plist value is a dictionary; the plist codec's, re-exported for this module's importers. */
export { isPlistDict };

/**
 * Decodes profile bytes and checks the result is a dictionary. Throws `PlistError` on a
 * malformed plist and `ProfileError` `ERR_PROFILE_FORMAT` when the root is not a dictionary.
 */
export function decodeProfile(bytes: Uint8Array | string): PlistDict {
  const value = decodePlist(bytes, { preserveReals: true });
  if (!isPlistDict(value)) {
    throw new ProfileError('ERR_PROFILE_FORMAT', 'a profile must be a dictionary at its root');
  }
  return value;
}

/**
 * The bytes to sign or encrypt for `profile`: a dictionary is encoded as XML; bytes and text are
 * kept as given once they decode as a dictionary. Throws `PlistError`/`ProfileError` otherwise,
 * and `TypeError` for other input types.
 */
export function profileBytes(profile: ProfileInput): Buffer {
  if (typeof profile === 'string' || profile instanceof Uint8Array) {
    decodeProfile(profile);
    return typeof profile === 'string' ? Buffer.from(profile, 'utf8') : Buffer.from(profile);
  }
  if (typeof profile !== 'object' || Array.isArray(profile)) {
    throw new TypeError('profile must be a dictionary, plist bytes or XML text');
  }
  return encodePlist(profile, { format: 'xml' });
}

/** A key's type and size, e.g. `RSA-2048`, `EC prime256v1`, `ED25519`. */
function describeKey(key: KeyObject): string {
  const type = (key.asymmetricKeyType ?? 'unknown').toUpperCase();
  const details = key.asymmetricKeyDetails;
  if (details?.modulusLength !== undefined) return `${type}-${details.modulusLength}`;
  if (details?.namedCurve !== undefined) return `${type} ${details.namedCurve}`;
  return type;
}

/** SHA-256 of a public key's SubjectPublicKeyInfo DER, hex (`openssl pkey -pubout -outform DER | sha256sum`). */
function spkiFingerprint(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('hex');
}

/**
 * Checks that `key` is the private half of the public key `certificate` holds, comparing
 * SubjectPublicKeyInfo DER (RSA and EC alike). Throws `CryptoError` `ERR_SIGNER_KEY_MISMATCH`
 * naming the certificate's subject and both keys' types and SPKI SHA-256 fingerprints.
 */
function checkSignerKey(certificate: X509Certificate, key: KeyObject): void {
  const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
  let held: KeyObject;
  try {
    held = certificate.publicKey;
  } catch (cause) {
    throw new CryptoError('ERR_CERT_FORMAT', 'the certificate holds an unreadable public key', {
      cause,
    });
  }
  const given = createPublicKey(key);
  const [want, got] = [spki(held), spki(given)];
  if (want.equals(got)) return;
  throw new CryptoError(
    'ERR_SIGNER_KEY_MISMATCH',
    `the private key (${describeKey(given)}, SPKI SHA-256 ${spkiFingerprint(got)}) does not ` +
      `match the certificate "${certificate.subject.replace(/\n/g, ', ')}" (${describeKey(held)}, ` +
      `SPKI SHA-256 ${spkiFingerprint(want)}); a profile signed with it would not verify`,
  );
}

/**
 * Signs a profile: returns DER CMS SignedData with the profile's bytes attached and the signer's
 * certificate plus `chain` embedded, accepted by `openssl cms -verify` and by devices.
 * Throws `PlistError`/`ProfileError` when `profile` is not a profile, and `CryptoError`
 * (`ERR_KEY_FORMAT`, `ERR_CERT_FORMAT`, `ERR_CMS_UNSUPPORTED`) on unusable keys or certificates,
 * `ERR_SIGNER_KEY_MISMATCH` when the key is not the certificate's.
 */
export function signProfile(profile: ProfileInput, options: SignProfileOptions): Buffer {
  if (typeof options !== 'object') {
    throw new TypeError('signProfile: options with certificate and privateKey are required');
  }
  const content = profileBytes(profile);
  const certificate = toCertificate(options.certificate);
  const privateKey = toPrivateKey(options.privateKey);
  checkSignerKey(certificate, privateKey);
  return signCms(content, {
    certificate,
    privateKey,
    ...(options.chain === undefined ? {} : { chain: options.chain }),
    ...(options.digest === undefined ? {} : { digest: options.digest }),
    ...(options.signingTime === undefined ? {} : { signingTime: options.signingTime }),
  });
}
