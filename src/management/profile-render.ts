/**
 * What the library sends a device: the stored profile, its payloads encrypted to the device's
 * identity certificate when asked, then signed with the library's signing identity (encrypt
 * then sign, so the device checks the signature before it decrypts).
 */
import type { CertificateInput, PrivateKeyInput } from '../crypto/keys.js';
import { encryptProfile } from '../profile/encrypt.js';
import { decodeProfile, signProfile } from '../profile/sign.js';

/** The identity the library signs with: the daemon's profile-signing identity or the operator's. */
export interface ProfileSigner {
  certificate: CertificateInput;
  privateKey: PrivateKeyInput;
  /** Intermediates to embed beside the signer so devices can build the path. */
  chain?: readonly CertificateInput[];
}

/** Options of {@link renderProfile}. */
export interface RenderOptions {
  /** The device identity certificate (DER or PEM; RSA) to encrypt the payloads to. */
  encryptTo?: CertificateInput;
  /** The signingTime attribute; default now. */
  signingTime?: Date;
}

/**
 * Signs the stored profile bytes (an XML plist) with `signer`, after moving its payloads into
 * `EncryptedPayloadContent` for `options.encryptTo` when given: a DER CMS SignedData with the
 * profile attached, ready as an InstallProfile `Payload`. Throws `CryptoError` for an unusable
 * key or recipient certificate and `ProfileError`/`PlistError` when `stored` is not a profile.
 */
export function renderProfile(
  stored: Uint8Array,
  signer: ProfileSigner,
  options: RenderOptions = {},
): Buffer {
  const signing = {
    certificate: signer.certificate,
    privateKey: signer.privateKey,
    ...(signer.chain === undefined ? {} : { chain: [...signer.chain] }),
    ...(options.signingTime === undefined ? {} : { signingTime: options.signingTime }),
  };
  if (options.encryptTo === undefined) return signProfile(stored, signing);
  const encrypted = encryptProfile(decodeProfile(stored), { recipient: options.encryptTo });
  return signProfile(encrypted, signing);
}
