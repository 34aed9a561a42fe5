/** PostgreSQL adapter: what Orchard sent to each enrollment, and reconcile records. Owner: area E (stub until written). */
import type { DeviceProfileStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link DeviceProfileStore} on a context. */
export function pgDeviceProfiles(ctx: PgContext): DeviceProfileStore {
  void ctx;
  return {} as DeviceProfileStore;
}
