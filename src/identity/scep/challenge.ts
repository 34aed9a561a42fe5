/**
 * SCEP challenge passwords: a static shared secret, one-time challenges bound to an enrollment
 * (stored as SHA-256 digests, consumed atomically, expiring), and the pluggable validator type
 * the SCEP handler calls. Secrets are compared in constant time over fixed-length digests.
 */
import { createHash, randomBytes, timingSafeEqual, type X509Certificate } from 'node:crypto';
import type { ParsedCsr } from '../../crypto/csr.js';
import type { ChallengeStore, StoredChallenge } from '../../storage/ports.js';

/** What a validator sees of one request. */
export interface ChallengeContext {
  /** The challengePassword of the CSR; `undefined` when the CSR has none. */
  challenge: string | undefined;
  csr: ParsedCsr;
  messageType: 'PKCSReq' | 'RenewalReq' | 'CertPoll';
  transactionId: string;
  /**
   * The certificate that signed the request (transient self-signed for PKCSReq). Built on first
   * read (about 140 µs with OpenSSL 3), so a validator that does not need it does not pay for it.
   */
  readonly signer: X509Certificate;
}

/** A validator's answer: issue (optionally for an enrollment), refuse, or ask the client to poll. */
export type ChallengeDecision =
  | { outcome: 'accept'; enrollmentId?: string }
  | { outcome: 'reject'; reason?: string }
  | { outcome: 'pending' };

/**
 * Decides whether a PKCSReq may be issued. May throw (e.g. a webhook that cannot be reached):
 * the handler answers 503 then, so the client retries, rather than a final FAILURE.
 */
export type ChallengeValidator = (
  context: ChallengeContext,
) => ChallengeDecision | Promise<ChallengeDecision>;

const REJECT: ChallengeDecision = { outcome: 'reject', reason: 'challenge password not accepted' };

/** SHA-256 of a challenge's UTF-8 bytes: what stores keep and what comparisons run over. */
export function challengeDigest(challenge: string): Buffer {
  return createHash('sha256').update(challenge, 'utf8').digest();
}

/**
 * A validator that accepts exactly `secret`, compared in constant time over SHA-256 digests.
 * Throws `TypeError` on an empty secret (an empty secret would let anyone enroll).
 */
export function staticChallenge(secret: string): ChallengeValidator {
  if (typeof secret !== 'string' || secret.length === 0)
    throw new TypeError('staticChallenge(): the secret must be a non-empty string');
  const expected = challengeDigest(secret);
  return ({ challenge }) => {
    const given = challengeDigest(challenge ?? '');
    const ok = timingSafeEqual(given, expected) && challenge !== undefined;
    return ok ? { outcome: 'accept' } : REJECT;
  };
}

export type { ChallengeStore, StoredChallenge } from '../../storage/ports.js';

/** Dependencies of {@link createOneTimeChallenges}. */
export interface OneTimeChallengeDeps {
  store: ChallengeStore;
  /** Default `() => new Date()`. */
  clock?: () => Date;
  /** Source of random bytes; default `crypto.randomBytes`. */
  random?: (size: number) => Buffer;
}

/** Issuer and validator of one-time challenges. */
export interface OneTimeChallenges {
  /**
   * Creates a challenge (32 random bytes, base64url) valid for the TTL (or `ttlSeconds` when
   * given), optionally bound to an enrollment.
   */
  issue(
    enrollmentId?: string,
    options?: { ttlSeconds?: number },
  ): Promise<{ challenge: string; expiresAt: Date }>;
  /** Accepts a stored, unexpired challenge once, returning its enrollment id. */
  validator: ChallengeValidator;
}

/**
 * One-time challenges over `deps.store`; `ttlSeconds` defaults to 3600. Throws `TypeError` on a
 * TTL that is not a positive number.
 */
export function createOneTimeChallenges(
  deps: OneTimeChallengeDeps,
  options: { ttlSeconds?: number } = {},
): OneTimeChallenges {
  const ttl = options.ttlSeconds ?? 3600;
  if (!(ttl > 0)) throw new TypeError('createOneTimeChallenges(): ttlSeconds must be positive');
  const clock = deps.clock ?? (() => new Date());
  const random = deps.random ?? randomBytes;
  return {
    async issue(enrollmentId, issueOptions = {}) {
      const seconds = issueOptions.ttlSeconds ?? ttl;
      if (!(seconds > 0)) throw new TypeError('issue(): ttlSeconds must be positive');
      const challenge = random(32).toString('base64url');
      const expiresAt = new Date(clock().getTime() + seconds * 1000);
      const stored: StoredChallenge = { digest: challengeDigest(challenge), expiresAt };
      if (enrollmentId !== undefined) stored.enrollmentId = enrollmentId;
      await deps.store.put(stored);
      return { challenge, expiresAt };
    },
    async validator({ challenge }) {
      if (challenge === undefined || challenge.length === 0) return REJECT;
      const found = await deps.store.consume(challengeDigest(challenge), clock());
      if (found === undefined) return REJECT;
      return found.enrollmentId === undefined
        ? { outcome: 'accept' }
        : { outcome: 'accept', enrollmentId: found.enrollmentId };
    },
  };
}

/**
 * Combines validators: the first `accept` wins; otherwise `pending` if any deferred; otherwise
 * `reject`. Validators run in order, so a one-time challenge is consumed only when reached.
 */
export function anyChallenge(...validators: ChallengeValidator[]): ChallengeValidator {
  if (validators.length === 0) throw new TypeError('anyChallenge(): give at least one validator');
  return async (context) => {
    let pending = false;
    for (const v of validators) {
      const d = await v(context);
      if (d.outcome === 'accept') return d;
      if (d.outcome === 'pending') pending = true;
    }
    return pending ? { outcome: 'pending' } : REJECT;
  };
}
