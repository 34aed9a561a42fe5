/** PostgreSQL adapter: users, CSV upserts, enrollment owners and owned-enrollment paging. Owner: area D (stub until written). */
import type { UserStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link UserStore} on a context. */
export function pgUsers(ctx: PgContext): UserStore {
  void ctx;
  return {} as UserStore;
}
