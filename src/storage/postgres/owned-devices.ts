/**
 * {@link UserStore.listOwnedDevices} in PostgreSQL: the owned-enrollment walk of `users.ts`
 * with each enrollment's row joined by its key, in one statement per page.
 */
import type {
  EnrollmentType,
  OwnedDevice,
  OwnedEnrollmentFilter,
  Page,
  UserStore,
} from '../ports.js';
import { ownedPage, ownedPageStart } from '../policies-check.js';
import { op, query, setIf, type PgContext } from './db.js';
import { OWNED_COLUMNS, ownedQuery, userRecord, type OwnedShape, type UserRow } from './users.js';

/** The enrollment columns of a row, prefixed so they never meet the user's. */
interface EnrollmentColumns {
  e_type: EnrollmentType;
  e_device_id: string;
  e_parent_id: string | null;
  e_user_id: string | null;
  e_user_short_name: string | null;
  e_user_long_name: string | null;
  e_enrolled: boolean;
  e_facts: Record<string, unknown>;
  e_token_update_count: number;
  e_created_at: Date;
  e_updated_at: Date;
}

type Row = UserRow & EnrollmentColumns & { owned_enrollment_id: string };

const ENROLLMENT_COLUMNS = `e.type AS e_type, e.device_id AS e_device_id,
  e.parent_id AS e_parent_id, e.user_id AS e_user_id, e.user_short_name AS e_user_short_name,
  e.user_long_name AS e_user_long_name, e.enrolled AS e_enrolled, e.facts AS e_facts,
  e.token_update_count AS e_token_update_count, e.created_at AS e_created_at,
  e.updated_at AS e_updated_at`;

/** Owners with their users' and enrollments' rows (owners without an enrollment row drop out). */
const DEVICES: OwnedShape = {
  columns: `${OWNED_COLUMNS}, ${ENROLLMENT_COLUMNS}`,
  from: `orchard_enrollment_owners o JOIN orchard_users u ON u.id = o.user_id
    JOIN enrollments e ON e.id = o.enrollment_id`,
};

/** {@link ownedQuery} with each owned enrollment's row joined. */
export function ownedDevicesQuery(filter: OwnedEnrollmentFilter): ReturnType<typeof ownedQuery> {
  return ownedQuery(filter, DEVICES);
}

function ownedDevice(row: Row): OwnedDevice {
  const enrollment: OwnedDevice['enrollment'] = {
    id: row.owned_enrollment_id,
    type: row.e_type,
    deviceId: row.e_device_id,
    enrolled: row.e_enrolled,
    facts: row.e_facts,
    createdAt: row.e_created_at,
    updatedAt: row.e_updated_at,
    tokenUpdateCount: row.e_token_update_count,
  };
  setIf(enrollment, 'parentId', row.e_parent_id);
  setIf(enrollment, 'userId', row.e_user_id);
  setIf(enrollment, 'userShortName', row.e_user_short_name);
  setIf(enrollment, 'userLongName', row.e_user_long_name);
  return { enrollmentId: row.owned_enrollment_id, user: userRecord(row), enrollment };
}

async function listDevices(
  ctx: PgContext,
  filter: OwnedEnrollmentFilter,
  options: { limit: number; cursor?: string },
): Promise<Page<OwnedDevice>> {
  const after = ownedPageStart(filter, options);
  const { sql, lists } = ownedDevicesQuery(filter);
  const rows = await query<Row>(ctx.pool, sql, [
    after,
    options.limit + 1,
    ...lists.map((l) => [...l]),
  ]);
  return ownedPage(rows.map(ownedDevice), options.limit);
}

/** The owned-device listing of the PostgreSQL {@link UserStore}. */
export function pgOwnedDevices(ctx: PgContext): Required<Pick<UserStore, 'listOwnedDevices'>> {
  return {
    listOwnedDevices: (filter, options) => op(ctx, () => listDevices(ctx, filter, options)),
  };
}
