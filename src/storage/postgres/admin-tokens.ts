/** PostgreSQL adapter: enrollment links (single, personal, generic), sealed secrets. Owner: area C (stub until written). */
import type { EnrollmentLinkStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link EnrollmentLinkStore} on a context. */
export function pgEnrollmentLinks(ctx: PgContext): EnrollmentLinkStore {
  void ctx;
  return {} as EnrollmentLinkStore;
}
