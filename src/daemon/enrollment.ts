/**
 * Enrollment links and the signed enrollment profile: creating a link (single or multi-use,
 * expiring, optionally for a user) yields its URL once; each download answers a signed profile
 * with a fresh one-time SCEP challenge that lives as long as the link. A link is spent by
 * enrollment, not by download: the certificate issued against one of its challenges counts, so a
 * single-use link can be fetched again until a device has enrolled with it.
 */
import type { X509Certificate } from 'node:crypto';
import { renewalTarget, type ChallengeValidator } from '../index.js';
import type { AdminStore } from './admin-store.js';
import { newTokenSecret, type EnrollmentTokenRecord } from './admin-store-tokens.js';
import { hashApiKey } from './api-keys.js';
import {
  buildEnrollmentProfile,
  enrollmentProfileErrors,
  signEnrollmentProfile,
} from './enrollment-profile.js';
import { AdminError } from './errors.js';
import type { SigningIdentity } from './pki.js';

/** Default lifetime of an enrollment token: 7 days. */
export const DEFAULT_TOKEN_TTL_SECONDS = 7 * 86_400;

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

const LINK_TARGET = 'enrollment-token:';

/** What the one-time challenges of enrollment link `id` are bound to. */
export function linkTarget(id: string): string {
  return `${LINK_TARGET}${id}`;
}

/** What creating a token takes. */
export interface CreateTokenInput {
  singleUse: boolean;
  /** Lifetime; default {@link DEFAULT_TOKEN_TTL_SECONDS}; 0 means it never expires. */
  expiresInSeconds?: number;
  user?: string;
}

/** Dependencies of {@link createEnrollmentService}. */
export interface EnrollmentServiceDeps {
  admin: AdminStore;
  /**
   * Issues a one-time SCEP challenge bound to an id ({@link linkTarget} for links,
   * `renewalTarget(enrollmentId)` for identity renewals), valid `ttlSeconds`.
   */
  issueChallenge(boundTo: string, ttlSeconds?: number): Promise<string>;
  ca: X509Certificate;
  signing: SigningIdentity;
  /** The push topic, or `undefined` when no push certificate is configured. */
  topic(): string | undefined;
  publicUrl(): string;
  clock: () => Date;
  /** Challenge lifetime for links that never expire; default {@link DEFAULT_CHALLENGE_TTL_SECONDS}. */
  challengeTtlSeconds?: number;
  organization?: string;
}

/** The enrollment side of the daemon. */
export interface EnrollmentService {
  /**
   * Stores a new token; resolves its record and URL (the only place the secret appears). Throws
   * AdminError `ERR_PUSH_DISABLED` without a push certificate: the link could only fail.
   */
  createToken(input: CreateTokenInput): { record: EnrollmentTokenRecord; url: string };
  /**
   * Counts one download of `token` and answers the signed profile (DER) with a fresh challenge.
   * Throws AdminError `ERR_TOKEN_INVALID` (404) for an unknown, revoked or expired token or a
   * single-use one a device enrolled with, and `ERR_PUSH_DISABLED` (503) without a push certificate.
   */
  serveProfile(token: string): Promise<{ profile: Buffer; record: EnrollmentTokenRecord }>;
  /**
   * A signed enrollment profile renewing the identity of enrollment `enrollmentId`: its SCEP
   * challenge is bound to `renewalTarget(enrollmentId)` and lives `challengeTtlSeconds`. Throws
   * AdminError `ERR_PUSH_DISABLED` without a push certificate.
   */
  renewalProfile(enrollmentId: string, challengeTtlSeconds: number): Promise<Buffer>;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Stores a new enrollment token and resolves its record and URL (`<publicUrl>/enroll/<secret>`),
 * the only place the secret ever appears. Used by the API and by `orchard enroll create`, which
 * check first that a push certificate is configured.
 */
export function issueEnrollmentToken(
  admin: AdminStore,
  clock: () => Date,
  publicUrl: string,
  input: CreateTokenInput,
): { record: EnrollmentTokenRecord; url: string } {
  const secret = newTokenSecret();
  const ttl = input.expiresInSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const record = admin.createEnrollmentToken({
    hash: hashApiKey(secret),
    singleUse: input.singleUse,
    ...(ttl > 0 ? { expiresAt: new Date(clock().getTime() + ttl * 1000) } : {}),
    ...(input.user === undefined ? {} : { user: input.user }),
  });
  return { record, url: `${publicUrl}/enroll/${secret}` };
}

/**
 * Seconds a challenge minted at `now` for `link` lives: the link's remaining lifetime, or
 * `ttlSeconds` for a link that never expires. The link itself is checked again at issuance.
 */
export function linkChallengeTtl(
  link: Pick<EnrollmentTokenRecord, 'expiresAt'>,
  now: Date,
  ttlSeconds: number,
): number {
  if (link.expiresAt === undefined) return ttlSeconds;
  return Math.max(1, Math.ceil((link.expiresAt.getTime() - now.getTime()) / 1000));
}

/**
 * Wraps the one-time challenge validator so an enrollment link is spent by enrollment: when a
 * challenge bound to a link is accepted, the link counts one enrollment, atomically; a link that
 * is revoked, expired, or single use and already enrolled with refuses every challenge it gave
 * out (audited as `enrollment-token.enroll`). Other decisions pass unchanged.
 */
export function withEnrollmentLinks(
  next: ChallengeValidator,
  deps: { admin: AdminStore; clock: () => Date },
): ChallengeValidator {
  return async (context) => {
    const decision = await next(context);
    if (decision.outcome !== 'accept' || decision.enrollmentId?.startsWith(LINK_TARGET) !== true)
      return decision;
    const id = decision.enrollmentId.slice(LINK_TARGET.length);
    const link = deps.admin.redeemEnrollmentToken(id, deps.clock());
    if (link === undefined)
      return { outcome: 'reject', reason: 'the enrollment link is used, expired or revoked' };
    deps.admin.audit({
      actor: 'device',
      action: 'enrollment-token.enroll',
      target: id,
      detail: { enrollments: link.enrollments },
    });
    return decision;
  };
}

/** The push topic, or AdminError `ERR_PUSH_DISABLED` when no push certificate is configured. */
function requireTopic(deps: EnrollmentServiceDeps): string {
  const topic = deps.topic();
  if (topic === undefined) throw new AdminError('ERR_PUSH_DISABLED', PUSH_CERTIFICATE_HELP);
  return topic;
}

/** Builds, checks against Apple's schema and signs an enrollment profile around `challenge`. */
function signedProfile(
  deps: EnrollmentServiceDeps,
  topic: string,
  challenge: string,
  user: string | undefined,
): Buffer {
  const profile = buildEnrollmentProfile({
    publicUrl: deps.publicUrl(),
    topic,
    ca: deps.ca,
    challenge,
    ...(user === undefined ? {} : { user }),
    ...(deps.organization === undefined ? {} : { organization: deps.organization }),
  });
  const errors = enrollmentProfileErrors(profile, deps.publicUrl().startsWith('http:'));
  if (errors.length > 0)
    throw new TypeError(`enrollment profile fails Apple's schema: ${JSON.stringify(errors)}`);
  return signEnrollmentProfile(profile, deps.signing);
}

/** Creates the enrollment service. */
export function createEnrollmentService(deps: EnrollmentServiceDeps): EnrollmentService {
  const challengeTtl = deps.challengeTtlSeconds ?? DEFAULT_CHALLENGE_TTL_SECONDS;
  return {
    createToken(input) {
      requireTopic(deps);
      return issueEnrollmentToken(deps.admin, deps.clock, deps.publicUrl(), input);
    },
    async serveProfile(token) {
      const topic = requireTopic(deps);
      if (!TOKEN.test(token))
        throw new AdminError('ERR_TOKEN_INVALID', 'unknown or used enrollment link');
      const now = deps.clock();
      const record = deps.admin.downloadEnrollmentToken(hashApiKey(token), now);
      if (!record) throw new AdminError('ERR_TOKEN_INVALID', 'unknown or used enrollment link');
      const ttl = linkChallengeTtl(record, now, challengeTtl);
      const challenge = await deps.issueChallenge(linkTarget(record.id), ttl);
      return { profile: signedProfile(deps, topic, challenge, record.user), record };
    },
    async renewalProfile(enrollmentId, challengeTtlSeconds) {
      const topic = requireTopic(deps);
      const challenge = await deps.issueChallenge(renewalTarget(enrollmentId), challengeTtlSeconds);
      return signedProfile(deps, topic, challenge, undefined);
    },
  };
}
