/**
 * The enrollment service: creating a link yields its URL once; each download answers a signed
 * enrollment profile with a fresh one-time SCEP challenge that lives as long as the link, or,
 * where the link's group's `enrollment` page selects ACME for the requesting device, the
 * `com.apple.security.acme` payload with a fresh one-time ClientIdentifier; an identity renewal
 * gets a profile whose challenge is bound to the enrollment it renews.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { AdminError } from '../errors.js';
import { renewalTarget } from '../service/cert-auth.js';
import { hashApiKey } from './api-keys.js';
import {
  buildEnrollmentProfile,
  enrollmentProfileErrors,
  signEnrollmentProfile,
} from './enrollment-profile.js';
import {
  issueEnrollmentToken,
  linkChallengeTtl,
  linkTarget,
  type CreateTokenInput,
} from './enrollment-links.js';
import {
  chooseEnrollmentIdentity,
  deviceOsFromUserAgent,
  identitySetting,
} from '../management/enrollment-identity.js';
import {
  ROOT_GROUP_ID,
  type EnrollmentLinkStore,
  type EnrollmentTokenRecord,
} from '../storage/ports.js';
import type { AcmePayloadOptions } from './acme-payload.js';

/**
 * Default lifetime of the SCEP challenge in a profile from a link that never expires: 7 days
 * (a link that expires gives its challenges its own remaining lifetime).
 */
export const DEFAULT_CHALLENGE_TTL_SECONDS = 7 * 86_400;

/**
 * How to get the APNs MDM push certificate, step by step: what the first start, `orchard enroll
 * create` and the enrollment routes say when none is configured.
 */
export const PUSH_CERTIFICATE_STEPS: readonly string[] = [
  'Enrolling real devices needs the APNs MDM push certificate from Apple, and none is configured, so no enrollment link is handed out.',
  'To get one: (1) `orchard push csr --key push.key --csr push.csr` writes a key and a certificate request;',
  '(2) Apple only accepts the request signed by an MDM vendor: have your vendor sign push.csr, or sign it with your own MDM vendor certificate by adding `--vendor-cert FILE --vendor-key FILE --request PushCertificateRequest` (see `orchard push csr --help`);',
  '(3) upload the signed request at https://identity.apple.com (Apple Push Certificates Portal) and download the certificate as push.pem;',
  '(4) restart with `orchard serve --push-cert push.pem --push-key push.key`.',
];

/** {@link PUSH_CERTIFICATE_STEPS} as one paragraph, for error messages. */
export const PUSH_CERTIFICATE_HELP = PUSH_CERTIFICATE_STEPS.join(' ');

/**
 * Admin meta key where the daemon records, at each start, its push topic (empty without a push
 * certificate), so `orchard enroll create` prints no link the daemon would refuse.
 */
export const PUSH_TOPIC_META = 'push_topic';

/** The identity that signs enrollment profiles, with its chain. */
export interface ProfileSigner {
  certificate: X509Certificate;
  privateKey: KeyObject;
  chain: X509Certificate[];
}

/** ACME enrollment: what a download needs to carry the ACME payload instead of SCEP. */
export interface EnrollmentAcmeDeps {
  /** The effective values of the `enrollment` settings page of a group. */
  enrollmentSettings(groupId: string): Promise<Readonly<Record<string, unknown>>>;
  /** A fresh one-time ClientIdentifier (`AcmeClientIdentifiers.issue`). */
  issueClientIdentifier(input: { enrollmentId: string; ttlSeconds?: number }): Promise<string>;
  /** Key size of the device's ACME key; default 256 (P-256). */
  keySize?: 256 | 384;
}

/** What a download tells about the requesting device. */
export interface ProfileRequest {
  /** The download's `User-Agent` (its platform and OS version decide `acme-where-supported`). */
  userAgent?: string;
}

/** Dependencies of {@link createEnrollmentService}. */
export interface EnrollmentServiceDeps {
  admin: EnrollmentLinkStore;
  /**
   * Issues a one-time SCEP challenge bound to an id ({@link linkTarget} for links,
   * `renewalTarget(enrollmentId)` for identity renewals), valid `ttlSeconds`.
   */
  issueChallenge(boundTo: string, ttlSeconds?: number): Promise<string>;
  ca: X509Certificate;
  signing: ProfileSigner;
  /** The push topic, or `undefined` when no push certificate is configured. */
  topic(): string | undefined;
  publicUrl(): string;
  clock: () => Date;
  /** Challenge lifetime for links that never expire; default {@link DEFAULT_CHALLENGE_TTL_SECONDS}. */
  challengeTtlSeconds?: number;
  organization?: string;
  /** ACME enrollment where the `enrollment` page selects it; absent, every profile uses SCEP. */
  acme?: EnrollmentAcmeDeps;
}

/** Enrollment links and the profiles they serve. */
export interface EnrollmentService {
  /**
   * Stores a new link; resolves to its record and URL (the only place the secret appears).
   * Rejects with AdminError `ERR_PUSH_DISABLED` without a push certificate: the link could only
   * fail.
   */
  createToken(input: CreateTokenInput): Promise<{ record: EnrollmentTokenRecord; url: string }>;
  /**
   * Counts one download of `token` and answers the signed profile (DER) with a fresh challenge.
   * Throws AdminError `ERR_TOKEN_INVALID` (404) for an unknown, revoked or expired token or a
   * single-use one a device enrolled with, `ERR_TOKEN_ROTATED` (410) for a personal link replaced
   * by rotation, and `ERR_PUSH_DISABLED` (503) without a push certificate.
   */
  serveProfile(
    token: string,
    request?: ProfileRequest,
  ): Promise<{ profile: Buffer; record: EnrollmentTokenRecord; identity: 'scep' | 'acme' }>;
  /**
   * A signed enrollment profile renewing the identity of enrollment `enrollmentId`: its SCEP
   * challenge is bound to `renewalTarget(enrollmentId)` and lives `challengeTtlSeconds`. Throws
   * AdminError `ERR_PUSH_DISABLED` without a push certificate.
   */
  renewalProfile(enrollmentId: string, challengeTtlSeconds: number): Promise<Buffer>;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The push topic, or AdminError `ERR_PUSH_DISABLED` when no push certificate is configured. */
function requireTopic(deps: EnrollmentServiceDeps): string {
  const topic = deps.topic();
  if (topic === undefined) throw new AdminError('ERR_PUSH_DISABLED', PUSH_CERTIFICATE_HELP);
  return topic;
}

/** The identity of one profile: a SCEP challenge, or the ACME payload's choices. */
type ProfileIdentity =
  { challenge: string } | { challenge: string; acme: Omit<AcmePayloadOptions, 'subject'> };

/** Builds, checks against Apple's schema and signs an enrollment profile around `identity`. */
function signedProfile(
  deps: EnrollmentServiceDeps,
  topic: string,
  identity: ProfileIdentity,
  user: string | undefined,
): Buffer {
  const profile = buildEnrollmentProfile({
    publicUrl: deps.publicUrl(),
    topic,
    ca: deps.ca,
    ...identity,
    ...(user === undefined ? {} : { user }),
    ...(deps.organization === undefined ? {} : { organization: deps.organization }),
  });
  const errors = enrollmentProfileErrors(profile, deps.publicUrl().startsWith('http:'));
  if (errors.length > 0)
    throw new TypeError(`enrollment profile fails Apple's schema: ${JSON.stringify(errors)}`);
  return signEnrollmentProfile(profile, deps.signing);
}

/**
 * The identity of a link download: ACME with a fresh ClientIdentifier when the link's group
 * (the root for a link without one) selects it for the requesting device, else a SCEP challenge.
 */
async function linkIdentity(
  deps: EnrollmentServiceDeps,
  record: EnrollmentTokenRecord,
  ttlSeconds: number,
  request: ProfileRequest,
): Promise<ProfileIdentity> {
  const target = linkTarget(record.id);
  const acme = deps.acme;
  if (acme !== undefined) {
    const values = await acme.enrollmentSettings(record.groupId ?? ROOT_GROUP_ID);
    const device = deviceOsFromUserAgent(request.userAgent);
    if (chooseEnrollmentIdentity(identitySetting(values), device) === 'acme') {
      const clientIdentifier = await acme.issueClientIdentifier({
        enrollmentId: target,
        ttlSeconds,
      });
      return {
        challenge: '',
        acme: {
          directoryUrl: `${deps.publicUrl()}/acme/directory`,
          clientIdentifier,
          ...(acme.keySize === undefined ? {} : { keySize: acme.keySize }),
        },
      };
    }
  }
  return { challenge: await deps.issueChallenge(target, ttlSeconds) };
}

/** Creates the enrollment service over a link store, a challenge issuer and a signing identity. */
export function createEnrollmentService(deps: EnrollmentServiceDeps): EnrollmentService {
  const challengeTtl = deps.challengeTtlSeconds ?? DEFAULT_CHALLENGE_TTL_SECONDS;
  const invalid = () => new AdminError('ERR_TOKEN_INVALID', 'unknown or used enrollment link');
  const rotated = () =>
    new AdminError('ERR_TOKEN_ROTATED', 'this enrollment link was replaced: ask for the new one');
  return {
    async createToken(input) {
      requireTopic(deps);
      return issueEnrollmentToken(deps.admin, deps.clock, deps.publicUrl(), input);
    },
    async serveProfile(token, request = {}) {
      const topic = requireTopic(deps);
      if (!TOKEN.test(token)) throw invalid();
      const now = deps.clock();
      const hash = hashApiKey(token);
      const record = await deps.admin.downloadEnrollmentToken(hash, now);
      if (!record)
        throw (await deps.admin.findEnrollmentTokenByHash(hash))?.rotatedAt ? rotated() : invalid();
      const ttl = linkChallengeTtl(record, now, challengeTtl);
      const identity = await linkIdentity(deps, record, ttl, request);
      const profile = signedProfile(deps, topic, identity, record.user);
      return { profile, record, identity: 'acme' in identity ? 'acme' : 'scep' };
    },
    async renewalProfile(enrollmentId, challengeTtlSeconds) {
      const topic = requireTopic(deps);
      const challenge = await deps.issueChallenge(renewalTarget(enrollmentId), challengeTtlSeconds);
      return signedProfile(deps, topic, { challenge }, undefined);
    },
  };
}
