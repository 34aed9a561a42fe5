/** PostgreSQL adapter: organization groups with settings (optimistic revision) and administrators. Owner: area D (stub until written). */
import type { OrgGroupStore, PrincipalStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link OrgGroupStore} on a context. */
export function pgOrgGroups(ctx: PgContext): OrgGroupStore {
  void ctx;
  return {} as OrgGroupStore;
}

/** The {@link PrincipalStore} on a context. */
export function pgPrincipals(ctx: PgContext): PrincipalStore {
  void ctx;
  return {} as PrincipalStore;
}
