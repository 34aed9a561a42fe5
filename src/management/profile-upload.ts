/**
 * Reading a `.mobileconfig` uploaded to the profile library: an XML or binary plist, or a CMS
 * SignedData around one. The signature must be intact (the signer's chain need not be trusted:
 * the library re-signs what it sends); the result must be an unencrypted Configuration profile
 * that passes Apple's schema. Every refusal is a 422 naming what is wrong.
 */
import { verifyCertificateChain } from '../crypto/chain.js';
import type { CertificateInput } from '../crypto/keys.js';
import { ManagementError, OrchardError, type ValidationIssue } from '../errors.js';
import type { PlatformCompatibility } from '../profile/validate.js';
import { checkProfile } from '../profile/validate.js';
import { isEncryptedProfile } from '../profile/encrypt.js';
import { decodeProfile, isPlistDict, looksLikePlist } from '../profile/sign.js';
import { verifyProfile } from '../profile/verify.js';
import { encodePlist, type PlistDict } from '../protocol/plist.js';

/** Largest profile the library takes, signed or not: 3 MiB (profiles carrying certificates are big). */
export const MAX_PROFILE_BYTES = 3 * 1024 * 1024;

/** Who signed an upload, as far as the library can tell. */
export interface UploadSigner {
  /** The signer certificate's subject, one line (`CN=..., O=...`). */
  subject: string;
  /** Whether the signer chains to a certificate the library knows (its own signing chain). */
  trusted: boolean;
}

/** An upload that passed every check. */
export interface ReadUpload {
  /** The profile, decoded, without signature. */
  profile: PlistDict;
  /** `PayloadIdentifier`. */
  identifier: string;
  /** Top-level `PayloadUUID` as uploaded. */
  payloadUuid: string;
  /** Present when the upload was signed. */
  signer?: UploadSigner;
  /** Schema warnings (the upload had no errors). */
  warnings: ValidationIssue[];
  /** Per-platform compatibility, from `checkProfile`. */
  compatibility: readonly PlatformCompatibility[];
}

/** Options of {@link readUpload}. */
export interface ReadUploadOptions {
  /** Certificates an upload's signer may chain to, to be reported `trusted`. */
  knownRoots?: readonly CertificateInput[];
  /** Time for the signer's validity; default now. */
  at?: Date;
}

function issue(path: string, code: string, message: string): ValidationIssue {
  return { path, code, message, severity: 'error' };
}

/** ManagementError `ERR_PROFILE_INVALID` (422) with `issues`. */
export function invalidProfile(
  message: string,
  issues: readonly ValidationIssue[],
): ManagementError {
  return new ManagementError('ERR_PROFILE_INVALID', message, { issues, field: 'mobileconfig' });
}

const oneLine = (subject: string): string => subject.replace(/\n/g, ', ');

function isTrusted(
  signer: ReturnType<typeof verifyProfile>,
  roots: readonly CertificateInput[],
  at: Date | undefined,
): boolean {
  if (roots.length === 0) return false;
  try {
    verifyCertificateChain(signer.signer, {
      roots: [...roots],
      intermediates: signer.certificates,
      ...(at === undefined ? {} : { at }),
    });
    return true;
  } catch {
    return false;
  }
}

/** Opens a signed upload: the inner profile and its signer; 422 when the signature is broken. */
function unwrapSigned(
  content: Uint8Array,
  options: ReadUploadOptions,
): { profile: PlistDict; signer: UploadSigner } {
  let verified: ReturnType<typeof verifyProfile>;
  try {
    verified = verifyProfile(content);
  } catch (error) {
    if (!(error instanceof OrchardError)) throw error;
    if (error.code === 'ERR_CMS_SIGNATURE')
      throw invalidProfile('the signature of the profile does not verify', [
        issue('', 'signature-invalid', 'the signed content was altered or the signature is broken'),
      ]);
    if (error.code.startsWith('ERR_PLIST') || error.code.startsWith('ERR_PROFILE'))
      throw invalidProfile('the signed content is not a profile', [
        issue('', 'not-a-profile', error.message),
      ]);
    throw invalidProfile('the upload is neither a property list nor a signed profile', [
      issue('', 'unreadable', error.message),
    ]);
  }
  const trusted = isTrusted(verified, options.knownRoots ?? [], options.at);
  return {
    profile: verified.profile,
    signer: { subject: oneLine(verified.signer.subject), trusted },
  };
}

function decodePlain(content: Uint8Array): PlistDict {
  try {
    return decodeProfile(content);
  } catch (error) {
    if (!(error instanceof OrchardError)) throw error;
    throw invalidProfile('the upload is not a readable profile', [
      issue('', 'not-a-profile', error.message),
    ]);
  }
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** The structural problems that stop `profile` from being a library profile. */
export function structureIssues(profile: PlistDict): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  if (profile.PayloadType !== 'Configuration')
    out.push(issue('PayloadType', 'not-configuration', 'PayloadType must be Configuration'));
  if (!nonEmpty(profile.PayloadIdentifier))
    out.push(issue('PayloadIdentifier', 'missing', 'PayloadIdentifier must be a non-empty string'));
  if (!nonEmpty(profile.PayloadUUID))
    out.push(issue('PayloadUUID', 'missing', 'PayloadUUID must be a non-empty string'));
  if (isEncryptedProfile(profile))
    out.push(
      issue(
        'EncryptedPayloadContent',
        'encrypted',
        'encrypted profiles cannot be stored: the library encrypts per device; upload the profile unencrypted',
      ),
    );
  else if (!Array.isArray(profile.PayloadContent) || !profile.PayloadContent.every(isPlistDict))
    out.push(
      issue('PayloadContent', 'missing', 'PayloadContent must be an array of payload dictionaries'),
    );
  else if (profile.PayloadContent.some((p) => isPlistDict(p) && p.PayloadType === 'com.apple.mdm'))
    // A device refuses an MDM payload through InstallProfile; enrollment has its own links.
    out.push(
      issue(
        'PayloadContent',
        'mdm-payload',
        'enrollment profiles (com.apple.mdm) are not library profiles: enroll devices with enrollment links',
      ),
    );
  return out;
}

/**
 * Reads an upload: verifies a signature when there is one, checks the result is an unencrypted
 * Configuration profile and validates it against Apple's schema. Throws ManagementError
 * `ERR_PROFILE_INVALID` (422) with `issues` for anything else (junk bytes, a broken signature, a
 * missing key, an encrypted profile, schema errors); never a 5xx for bad input.
 */
export function readUpload(content: Uint8Array, options: ReadUploadOptions = {}): ReadUpload {
  if (!(content instanceof Uint8Array)) throw new TypeError('readUpload: content must be bytes');
  if (content.length === 0)
    throw invalidProfile('the upload is empty', [issue('', 'empty', 'the upload is empty')]);
  if (content.length > MAX_PROFILE_BYTES)
    throw invalidProfile('the upload is too large', [
      issue('', 'too-large', `a profile may have at most ${MAX_PROFILE_BYTES} bytes`),
    ]);
  const signed = looksLikePlist(content) ? undefined : unwrapSigned(content, options);
  const profile = signed?.profile ?? decodePlain(content);
  const structural = structureIssues(profile);
  if (structural.length > 0)
    throw invalidProfile('the upload is not a Configuration profile', structural);
  const report = checkProfile(profile);
  const errors = report.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw invalidProfile("the profile breaks Apple's schema", errors);
  return {
    profile,
    identifier: profile.PayloadIdentifier as string,
    payloadUuid: profile.PayloadUUID as string,
    ...(signed === undefined ? {} : { signer: signed.signer }),
    warnings: report.issues.filter((i) => i.severity === 'warning'),
    compatibility: report.compatibility ?? [],
  };
}

/** The stored form of a profile: XML plist bytes (reals kept as reals). */
export function storedBytes(profile: PlistDict): Buffer {
  return encodePlist(profile, { format: 'xml' });
}
