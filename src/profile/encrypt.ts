/**
 * Encrypting configuration profiles for one device: the payloads move into
 * `EncryptedPayloadContent`, a CMS EnvelopedData of the XML-serialised `PayloadContent` array,
 * encrypted to the device's identity certificate; the top-level keys stay readable.
 * See https://developer.apple.com/documentation/devicemanagement/toplevel
 */
import { decryptCms, encryptCms, type EncryptCmsOptions } from '../crypto/cms-envelope.js';
import type { CertificateInput, PrivateKeyInput } from '../crypto/keys.js';
import { ProfileError } from '../errors.js';
import { decodePlist, encodePlist, type PlistDict } from '../protocol/plist.js';
import { decodeProfile, type ProfileInput } from './sign.js';

/** Options of {@link encryptProfile}. */
export interface EncryptProfileOptions {
  /** The device identity certificate (RSA) the payloads are encrypted to. */
  recipient: CertificateInput;
  /** Key transport; default `rsa-pkcs1`, which every Apple OS version decrypts. */
  keyTransport?: EncryptCmsOptions['keyTransport'];
  /** Content cipher; default `aes-256-cbc`. */
  cipher?: EncryptCmsOptions['cipher'];
}

/** Options of {@link decryptProfile}. */
export interface DecryptProfileOptions {
  /** The device's private key. */
  privateKey: PrivateKeyInput;
  /** The device's certificate, to pick its recipient among several. */
  certificate?: CertificateInput;
}

function asDict(profile: ProfileInput): PlistDict {
  if (typeof profile === 'string' || profile instanceof Uint8Array) return decodeProfile(profile);
  if (typeof profile !== 'object' || Array.isArray(profile)) {
    throw new TypeError('profile must be a dictionary, plist bytes or XML text');
  }
  return profile;
}

/** Whether a decoded profile carries encrypted payloads (`EncryptedPayloadContent` or `IsEncrypted`). */
export function isEncryptedProfile(profile: PlistDict): boolean {
  return profile.EncryptedPayloadContent !== undefined || profile.IsEncrypted === true;
}

/**
 * Returns a copy of `profile` whose `PayloadContent` is replaced by `EncryptedPayloadContent`
 * (CMS EnvelopedData, DER, of the array as an XML plist) with `IsEncrypted` true. Sign the result
 * afterwards if it should be signed. Throws `ProfileError` `ERR_PROFILE_ALREADY_ENCRYPTED` or
 * `ERR_PROFILE_FORMAT` (no `PayloadContent` array), and `CryptoError` for an unusable recipient.
 */
export function encryptProfile(profile: ProfileInput, options: EncryptProfileOptions): PlistDict {
  const dict = asDict(profile);
  if (isEncryptedProfile(dict)) {
    throw new ProfileError('ERR_PROFILE_ALREADY_ENCRYPTED', 'the profile is already encrypted');
  }
  const content = dict.PayloadContent;
  if (!Array.isArray(content)) {
    throw new ProfileError(
      'ERR_PROFILE_FORMAT',
      'the profile has no PayloadContent array to encrypt',
    );
  }
  const envelope = encryptCms(encodePlist(content, { format: 'xml' }), options.recipient, {
    ...(options.keyTransport === undefined ? {} : { keyTransport: options.keyTransport }),
    ...(options.cipher === undefined ? {} : { cipher: options.cipher }),
  });
  // Spread defines own properties, so even a `__proto__` key is copied as data.
  const out: PlistDict = { ...dict };
  delete out.PayloadContent;
  out.IsEncrypted = true;
  out.EncryptedPayloadContent = new Uint8Array(envelope);
  return out;
}

/**
 * Returns a copy of an encrypted profile with `PayloadContent` restored and the encryption keys
 * removed. Throws `ProfileError` `ERR_PROFILE_NOT_ENCRYPTED` or `ERR_PROFILE_FORMAT` (the
 * decrypted content is not an array), `CryptoError` `ERR_CMS_DECRYPT`/`ERR_CMS_NO_RECIPIENT`
 * when the key does not open it, and `PlistError` when the decrypted bytes are not a plist.
 */
export function decryptProfile(profile: ProfileInput, options: DecryptProfileOptions): PlistDict {
  const dict = asDict(profile);
  const envelope = dict.EncryptedPayloadContent;
  if (!(envelope instanceof Uint8Array)) {
    throw new ProfileError(
      'ERR_PROFILE_NOT_ENCRYPTED',
      'the profile has no EncryptedPayloadContent',
    );
  }
  const plain = decryptCms(envelope, {
    privateKey: options.privateKey,
    ...(options.certificate === undefined ? {} : { certificate: options.certificate }),
  });
  const content = decodePlist(plain, { preserveReals: true });
  if (!Array.isArray(content)) {
    throw new ProfileError('ERR_PROFILE_FORMAT', 'the decrypted payload content is not an array');
  }
  const out: PlistDict = { ...dict };
  delete out.EncryptedPayloadContent;
  delete out.IsEncrypted;
  out.PayloadContent = content;
  return out;
}
