/** PostgreSQL adapter: certificate bindings and identity renewals. Owner: area A (stub until written). */
import type { CertBindingStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link CertBindingStore} on a context. */
export function pgCertBindings(ctx: PgContext): CertBindingStore {
  void ctx;
  return {} as CertBindingStore;
}
