/** Every administrative port over a PostgreSQL context, in one {@link AdminStorage}. */
import type { AdminStorage } from '../ports.js';
import { pgApiKeys, pgAuditLog, pgSettings } from './admin-keys.js';
import { pgEnrollmentLinks } from './admin-tokens.js';
import type { PgContext } from './db.js';
import { pgDeviceProfiles } from './device-profiles.js';
import { pgOrgGroups, pgPrincipals } from './management.js';
import { pgProfileLibrary } from './management-profiles.js';
import { pgOwnedDevices } from './owned-devices.js';
import { pgPolicies } from './policies.js';
import { pgUsers } from './users.js';
import { pgCredentials, pgWebSessions } from './web.js';

/** Every admin port on a context; `close` releases the context. */
export function pgAdminStorage(ctx: PgContext, close: () => void): AdminStorage {
  return {
    ...pgApiKeys(ctx),
    ...pgAuditLog(ctx),
    ...pgEnrollmentLinks(ctx),
    ...pgSettings(ctx),
    ...pgOrgGroups(ctx),
    ...pgPrincipals(ctx),
    ...pgProfileLibrary(ctx),
    ...pgUsers(ctx),
    ...pgOwnedDevices(ctx),
    ...pgPolicies(ctx),
    ...pgDeviceProfiles(ctx),
    ...pgWebSessions(ctx),
    ...pgCredentials(ctx),
    close,
  };
}
