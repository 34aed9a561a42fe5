/** PostgreSQL adapter: check-ins: enrollments, Authenticate/TokenUpdate/CheckOut, facts, listing, last seen, UnlockToken. Owner: area A (stub until written). */
import type { CheckinStore } from '../ports.js';
import type { PgContext } from './db.js';
import type { PgLastSeen } from './last-seen.js';

/** The {@link CheckinStore} on a context; last-seen instants go through `lastSeen`. */
export function pgCheckin(ctx: PgContext, lastSeen: PgLastSeen): CheckinStore {
  void ctx;
  void lastSeen;
  return {} as CheckinStore;
}
