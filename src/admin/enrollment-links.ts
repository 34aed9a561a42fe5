/**
 * Enrollment links: a 256-bit secret that appears only in the link's URL (the store keeps its
 * SHA-256), single or multi use, expiring, optionally for a user. A link is spent by enrollment,
 * not by download: {@link withEnrollmentLinks} counts the certificate issued against one of its
 * challenges, so a single-use link can be fetched again until a device has enrolled with it.
 */
import { randomBytes } from 'node:crypto';
import type { ChallengeValidator } from '../identity/scep/challenge.js';
import type { Logger } from '../logger.js';
import type { AuditLog, EnrollmentLinkStore, EnrollmentTokenRecord } from '../storage/ports.js';
import { hashApiKey } from './api-keys.js';
import { recordAudit } from './audit.js';

/** Default lifetime of an enrollment link: 7 days. */
export const DEFAULT_TOKEN_TTL_SECONDS = 7 * 86_400;

const LINK_TARGET = 'enrollment-token:';

/** What the one-time challenges of enrollment link `id` are bound to. */
export function linkTarget(id: string): string {
  return `${LINK_TARGET}${id}`;
}

/** What creating a link takes. */
export interface CreateTokenInput {
  singleUse: boolean;
  /** Lifetime; default {@link DEFAULT_TOKEN_TTL_SECONDS}; 0 means it never expires. */
  expiresInSeconds?: number;
  user?: string;
}

/** A new link secret: 32 random bytes in base64url (43 characters). */
export function newTokenSecret(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

/**
 * A new link secret with the hash the store keeps of it: what a kept (personal or generic) link
 * is made or rotated with.
 */
export function mintTokenSecret(random: (n: number) => Buffer = randomBytes): {
  secret: string;
  hash: string;
} {
  const secret = newTokenSecret(random);
  return { secret, hash: hashApiKey(secret) };
}

/**
 * Stores a new enrollment link and returns its record and URL (`<publicUrl>/enroll/<secret>`),
 * the only place the secret ever appears. Callers check first that a push certificate is
 * configured: without one the link could only fail.
 */
export async function issueEnrollmentToken(
  links: Pick<EnrollmentLinkStore, 'createEnrollmentToken'>,
  clock: () => Date,
  publicUrl: string,
  input: CreateTokenInput,
): Promise<{ record: EnrollmentTokenRecord; url: string }> {
  const secret = newTokenSecret();
  const ttl = input.expiresInSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const record = await links.createEnrollmentToken({
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
 * out (audited as `enrollment-token.enroll`). Other decisions pass unchanged. The link is spent
 * before its audit: with `logger`, a failed audit write is logged and the decision stands;
 * without, the failure rejects.
 */
export function withEnrollmentLinks(
  next: ChallengeValidator,
  deps: {
    admin: Pick<EnrollmentLinkStore, 'redeemEnrollmentToken'> & AuditLog;
    clock: () => Date;
    logger?: Logger;
  },
): ChallengeValidator {
  return async (context) => {
    const decision = await next(context);
    if (decision.outcome !== 'accept' || decision.enrollmentId?.startsWith(LINK_TARGET) !== true)
      return decision;
    const id = decision.enrollmentId.slice(LINK_TARGET.length);
    const link = await deps.admin.redeemEnrollmentToken(id, deps.clock());
    if (link === undefined)
      return { outcome: 'reject', reason: 'the enrollment link is used, expired or revoked' };
    const audited = recordAudit(deps.admin, 'device', 'enrollment-token.enroll', id, {
      enrollments: link.enrollments,
    });
    const { logger } = deps;
    await (logger === undefined
      ? audited
      : audited.catch((error: unknown) => {
          logger.error({ err: error, linkId: id }, 'audit of an enrollment failed');
        }));
    return decision;
  };
}
