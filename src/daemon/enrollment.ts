/**
 * Enrollment tokens and the signed enrollment profile: creating a token (single or multi-use,
 * expiring, optionally for a user) yields its URL once; fetching that URL consumes one use, mints
 * a one-time SCEP challenge bound to the token and answers the signed profile.
 */
import type { X509Certificate } from 'node:crypto';
import { renewalTarget } from '../index.js';
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
   * Issues a one-time SCEP challenge bound to an id (`enrollment-token:<id>` for links,
   * `renewalTarget(enrollmentId)` for identity renewals), valid one hour or `ttlSeconds`.
   */
  issueChallenge(boundTo: string, ttlSeconds?: number): Promise<string>;
  ca: X509Certificate;
  signing: SigningIdentity;
  /** The push topic, or `undefined` when no push certificate is configured. */
  topic(): string | undefined;
  publicUrl(): string;
  clock: () => Date;
  organization?: string;
}

/** The enrollment side of the daemon. */
export interface EnrollmentService {
  /** Stores a new token; resolves its record and URL (the only place the secret appears). */
  createToken(input: CreateTokenInput): { record: EnrollmentTokenRecord; url: string };
  /**
   * Consumes one use of `token` and answers the signed profile (DER). Throws AdminError
   * `ERR_TOKEN_INVALID` (404) for an unknown, used, revoked or expired token and
   * `ERR_PUSH_DISABLED` (503) when no push certificate is configured.
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
 * the only place the secret ever appears. Used by the API and by `orchard enroll create`.
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

/** The push topic, or AdminError `ERR_PUSH_DISABLED` when no push certificate is configured. */
function requireTopic(deps: EnrollmentServiceDeps): string {
  const topic = deps.topic();
  if (topic === undefined)
    throw new AdminError(
      'ERR_PUSH_DISABLED',
      'no push certificate is configured, so devices cannot be enrolled',
    );
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
  return {
    createToken: (input) => issueEnrollmentToken(deps.admin, deps.clock, deps.publicUrl(), input),
    async serveProfile(token) {
      const topic = requireTopic(deps);
      if (!TOKEN.test(token))
        throw new AdminError('ERR_TOKEN_INVALID', 'unknown or used enrollment link');
      const record = deps.admin.consumeEnrollmentToken(hashApiKey(token), deps.clock());
      if (!record) throw new AdminError('ERR_TOKEN_INVALID', 'unknown or used enrollment link');
      const challenge = await deps.issueChallenge(`enrollment-token:${record.id}`);
      return { profile: signedProfile(deps, topic, challenge, record.user), record };
    },
    async renewalProfile(enrollmentId, challengeTtlSeconds) {
      const topic = requireTopic(deps);
      const challenge = await deps.issueChallenge(renewalTarget(enrollmentId), challengeTtlSeconds);
      return signedProfile(deps, topic, challenge, undefined);
    },
  };
}
