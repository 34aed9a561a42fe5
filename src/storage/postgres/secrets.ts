/** PostgreSQL adapter: push info and bootstrap tokens. Owner: area A (stub until written). */
import type { BootstrapTokenStore, PushInfoStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The push-info and bootstrap-token ports on a context. */
export function pgDeviceSecrets(ctx: PgContext): PushInfoStore & BootstrapTokenStore {
  void ctx;
  return {} as PushInfoStore & BootstrapTokenStore;
}
