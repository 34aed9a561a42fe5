/** PostgreSQL adapter: the CA records of issued certificates and the one-time SCEP challenges. Owner: area C (stub until written). */
import type { CertificateStore, ChallengeStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link CertificateStore} on a context. */
export function pgCertificateStore(ctx: PgContext): CertificateStore {
  void ctx;
  return {} as CertificateStore;
}

/** The {@link ChallengeStore} on a context. */
export function pgChallengeStore(ctx: PgContext): ChallengeStore {
  void ctx;
  return {} as ChallengeStore;
}
