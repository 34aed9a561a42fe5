/**
 * The audit log: who (`actor`: an API key id, `device`, `anonymous` or a CLI user) did what
 * (`action` on `target`), when, with non-secret details. Entries are appended, never changed.
 */
import type { AuditEntry, AuditLog } from '../storage/ports.js';

/** What an entry records; the log adds its sequence number and time. */
export type AuditInput = Omit<AuditEntry, 'seq' | 'at'>;

/** Appends an entry for `actor` and resolves to it as stored. `detail` must hold no secret. */
export function recordAudit(
  log: Pick<AuditLog, 'audit'>,
  actor: string,
  action: string,
  target: string,
  detail: Record<string, unknown> = {},
): Promise<AuditEntry> {
  return log.audit({ actor, action, target, detail });
}
