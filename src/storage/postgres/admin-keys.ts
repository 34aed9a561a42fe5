/** PostgreSQL adapter: API keys, the audit log and the meta settings. Owner: area C (stub until written). */
import type { ApiKeyStore, AuditLog, SettingsStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link ApiKeyStore} on a context. */
export function pgApiKeys(ctx: PgContext): ApiKeyStore {
  void ctx;
  return {} as ApiKeyStore;
}

/** The {@link AuditLog} on a context. */
export function pgAuditLog(ctx: PgContext): AuditLog {
  void ctx;
  return {} as AuditLog;
}

/** The {@link SettingsStore} on a context. */
export function pgSettings(ctx: PgContext): SettingsStore {
  void ctx;
  return {} as SettingsStore;
}
