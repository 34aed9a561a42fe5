/**
 * The enrollment profile `GET /enroll/{token}` serves: our CA as a root payload, a SCEP payload
 * carrying a one-time challenge, and the MDM payload pointing at the public URL. Built as a plist
 * dictionary, checked against Apple's schema, and signed with a signing identity.
 * See https://developer.apple.com/documentation/devicemanagement/mdm
 */
import { createHash, randomUUID, type KeyObject, type X509Certificate } from 'node:crypto';
import type { ValidationIssue } from '../errors.js';
import { signProfile } from '../profile/sign.js';
import { validateProfile } from '../profile/validate.js';
import type { PlistDict } from '../protocol/plist.js';
import { acmePayloadKeys, type AcmePayloadOptions } from './acme-payload.js';

/** Every access right (AccessRights bitmask 1..4096). */
export const ALL_ACCESS_RIGHTS = 8191;

/** Stable identifier: installing a newer enrollment profile replaces the older one. */
export const ENROLLMENT_PROFILE_IDENTIFIER = 'com.orchard-mdm.enrollment';

/** What goes into an enrollment profile. */
export interface EnrollmentProfileInput {
  /** Base URL devices use, without a trailing slash. */
  publicUrl: string;
  /** APNs topic of the push certificate (`com.apple.mgmt.External.<uuid>`). */
  topic: string;
  /** The root certificate: the trust payload, and the top of the chain GetCACert answers. */
  ca: X509Certificate;
  /** The one-time SCEP challenge for this profile. */
  challenge: string;
  /** Shown to the user, e.g. the organisation. */
  organization?: string;
  /** Goes into the certificate subject's CN when given. */
  user?: string;
  /** UUID generator; default `crypto.randomUUID` (inject for stable output). */
  uuid?: () => string;
  /**
   * The identity by ACME (`com.apple.security.acme`) instead of SCEP: the directory URL and this
   * download's one-time ClientIdentifier (`challenge` is then unused).
   */
  acme?: Omit<AcmePayloadOptions, 'subject'>;
}

function payload(type: string, id: string, uuid: string, extra: PlistDict): PlistDict {
  return {
    PayloadType: type,
    PayloadVersion: 1,
    PayloadIdentifier: `${ENROLLMENT_PROFILE_IDENTIFIER}.${id}`,
    PayloadUUID: uuid,
    ...extra,
  };
}

/**
 * The SCEP payload's `CAFingerprint`: the SHA-1 of the root. Apple's SCEP client (SecSCEP.c,
 * `SecSCEPValidateCACertMessage`) hashes the certificate at the top of the chain the GetCACert
 * certificates form and knows only MD5 and SHA-1 lengths; any other length fails the enrollment.
 */
export function scepCaFingerprint(root: X509Certificate): Uint8Array {
  return new Uint8Array(createHash('sha1').update(root.raw).digest());
}

/** Builds the enrollment profile dictionary (unsigned). Pure apart from `uuid`. */
export function buildEnrollmentProfile(input: EnrollmentProfileInput): PlistDict {
  const uuid = input.uuid ?? randomUUID;
  const org = input.organization ?? 'Orchard';
  const scepUuid = uuid();
  const subject = input.user === undefined ? 'Orchard device' : `Orchard device (${input.user})`;
  const root = payload('com.apple.security.root', 'ca', uuid(), {
    PayloadDisplayName: 'Orchard CA',
    PayloadContent: new Uint8Array(input.ca.raw),
    PayloadCertificateFileName: 'orchard-ca.cer',
  });
  const identity = input.acme
    ? payload('com.apple.security.acme', 'acme', scepUuid, {
        PayloadDisplayName: 'Device identity',
        ...acmePayloadKeys({ ...input.acme, subject: [[['O', org]], [['CN', subject]]] }),
      })
    : scepPayload(input, scepUuid, org, subject);
  const mdm = payload('com.apple.mdm', 'mdm', uuid(), {
    PayloadDisplayName: 'Device management',
    IdentityCertificateUUID: scepUuid,
    Topic: input.topic,
    ServerURL: `${input.publicUrl}/mdm`,
    CheckInURL: `${input.publicUrl}/mdm/checkin`,
    SignMessage: true,
    AccessRights: ALL_ACCESS_RIGHTS,
    CheckOutWhenRemoved: true,
    ServerCapabilities: ['com.apple.mdm.per-user-connections', 'com.apple.mdm.bootstraptoken'],
  });
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: ENROLLMENT_PROFILE_IDENTIFIER,
    PayloadUUID: uuid(),
    PayloadDisplayName: `${org} enrollment`,
    PayloadOrganization: org,
    PayloadDescription: 'Enrolls this device in Orchard device management.',
    PayloadContent: [root, identity, mdm],
  };
}

function scepPayload(
  input: EnrollmentProfileInput,
  scepUuid: string,
  org: string,
  subject: string,
): PlistDict {
  return payload('com.apple.security.scep', 'scep', scepUuid, {
    PayloadDisplayName: 'Device identity',
    PayloadContent: {
      URL: `${input.publicUrl}/scep`,
      Name: 'Orchard',
      Subject: [[['O', org]], [['CN', subject]]],
      Challenge: input.challenge,
      Keysize: 2048,
      'Key Type': 'RSA',
      'Key Usage': 5,
      CAFingerprint: scepCaFingerprint(input.ca),
    },
  });
}

/** Whether an issue is only the schema's `https://` requirement on a URL (plain-HTTP test setups). */
export function isHttpsOnlyIssue(issue: ValidationIssue): boolean {
  return /(ServerURL|CheckInURL)$/.test(issue.path) && issue.code === 'format-mismatch';
}

/**
 * Errors of the profile against Apple's schema. With `allowHttp`, the https-pattern findings on
 * ServerURL/CheckInURL are left out (the daemon warns about them once at start-up).
 */
export function enrollmentProfileErrors(profile: PlistDict, allowHttp: boolean): ValidationIssue[] {
  return validateProfile(profile).filter(
    (i) => i.severity === 'error' && !(allowHttp && isHttpsOnlyIssue(i)),
  );
}

/** Signs the profile (CMS SignedData, DER) with the identity and its chain. */
export function signEnrollmentProfile(
  profile: PlistDict,
  signer: { certificate: X509Certificate; privateKey: KeyObject; chain: X509Certificate[] },
): Buffer {
  return Buffer.from(
    signProfile(profile, {
      certificate: signer.certificate,
      privateKey: signer.privateKey,
      chain: signer.chain,
    }),
  );
}
