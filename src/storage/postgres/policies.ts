/** PostgreSQL adapter: policies, assignments (sealed removal passwords) and group default policies. Owner: area E (stub until written). */
import type { PolicyStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link PolicyStore} on a context. */
export function pgPolicies(ctx: PgContext): PolicyStore {
  void ctx;
  return {} as PolicyStore;
}
