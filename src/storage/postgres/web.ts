/** PostgreSQL adapter: portal and console sessions, password hashes, setup tokens. Owner: area C (stub until written). */
import type { CredentialStore, WebSessionStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link WebSessionStore} on a context. */
export function pgWebSessions(ctx: PgContext): WebSessionStore {
  void ctx;
  return {} as WebSessionStore;
}

/** The {@link CredentialStore} on a context. */
export function pgCredentials(ctx: PgContext): CredentialStore {
  void ctx;
  return {} as CredentialStore;
}
