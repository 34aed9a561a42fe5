/**
 * What the user routes and the console's user pages share: the user service's scope option for
 * a caller, the write check over the groups a change touches, and the invitations an import's
 * rows ask for (mailed one after the other, the outcome noted on each row).
 */
import { authorizeGroup, type Caller } from '../../../admin/principals.js';
import { OrchardError } from '../../../errors.js';
import type { UserImportReport } from '../../../management/user-import.js';
import type { AdminApiDeps } from '../route.js';
import type { UserImportReportJson } from './users-views.js';

/** The user service's scope option for this caller. */
export const scopeOf = (caller: Caller) => ({ scope: caller.principal.groupId });

/** Throws 404/403 unless the caller may change what each of `groupIds` owns. */
export async function authorizeWrite(
  deps: Pick<AdminApiDeps, 'groups'>,
  caller: Caller,
  ...groupIds: string[]
): Promise<void> {
  const tree = await deps.groups.tree();
  for (const groupId of groupIds) authorizeGroup(tree, caller, groupId, 'write');
}

/**
 * Mails the invitation of each applied row that asked for one, one after the other, and notes
 * the outcome on the row: `sent`, or the refusal (no policy, mail not configured, mail failed).
 */
export async function invite(
  deps: Pick<AdminApiDeps, 'userLinks'>,
  report: UserImportReport,
): Promise<UserImportReportJson> {
  const rows: UserImportReportJson['rows'] = [];
  for (const row of report.rows) {
    if (!row.sendInvite || row.outcome === 'refused' || row.userId === undefined) {
      rows.push(row);
      continue;
    }
    try {
      await deps.userLinks.send(row.userId);
      rows.push({ ...row, invitation: 'sent' });
    } catch (error) {
      if (!(error instanceof OrchardError)) throw error;
      rows.push({ ...row, invitation: `not sent: ${error.message} [${error.code}]` });
    }
  }
  return { ...report, rows };
}
