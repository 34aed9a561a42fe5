/**
 * Enrollment tokens (links) under the daemon's old names: the port is `EnrollmentLinkStore` in
 * `storage/ports.ts`, its table in `storage/sqlite/admin-tokens.ts`. The secret itself appears
 * only in the enrollment URL; stores keep its SHA-256.
 */
import { randomBytes } from 'node:crypto';
import type { EnrollmentLinkStore } from '../storage/ports.js';

export type { EnrollmentTokenRecord, NewEnrollmentToken } from '../storage/ports.js';

/** Enrollment token methods of the admin store. */
export type TokenMethods = EnrollmentLinkStore;

/** A new enrollment token secret: 32 random bytes, base64url (43 characters). */
export function newTokenSecret(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}
