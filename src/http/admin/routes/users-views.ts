/**
 * Schemas and views of the user routes: the JSON of a user, the bodies that create and change
 * one, and the import report. Field rules beyond type and length are the user service's, so the
 * API, the CLI and each CSV row refuse the same values with the same words.
 */
import { z } from '@hono/zod-openapi';
import {
  MAX_CUSTOM_LENGTH,
  MAX_EMAIL_LENGTH,
  MAX_NAME_LENGTH,
} from '../../../management/user-fields.js';
import type { UserImportReport } from '../../../management/user-import.js';
import type { UserJson } from '../../../management/users.js';
import type { UserRecord } from '../../../storage/ports.js';
import type { AdminApiDeps } from '../route.js';
import { idSchema, Instant } from '../schemas.js';

const text = (name: string, max: number) =>
  z
    .string({ error: `${name} must be a string` })
    .max(max, { error: `${name} is longer than ${max} characters` });

const optional = {
  firstName: text('firstName', MAX_NAME_LENGTH),
  lastName: text('lastName', MAX_NAME_LENGTH),
  policy: text('policy', MAX_NAME_LENGTH).openapi({
    description:
      "the user's own policy, by id (pol_...) or name; absent or null, the nearest group default policy applies",
  }),
  managedAppleId: text('managedAppleId', MAX_EMAIL_LENGTH).openapi({
    description: 'Managed Apple Account, for account-driven enrollment',
  }),
  custom1: text('custom1', MAX_CUSTOM_LENGTH),
  custom2: text('custom2', MAX_CUSTOM_LENGTH),
  custom3: text('custom3', MAX_CUSTOM_LENGTH),
};
const username = text('username', MAX_NAME_LENGTH).openapi({
  description: 'unique (case-insensitively); letters, digits and . _ @ + -',
});
const email = text('email', MAX_EMAIL_LENGTH);
const groupId = idSchema('groupId');

/** Body of `POST /api/v1/users`. */
export const UserBody = z
  .strictObject({
    username,
    email,
    groupId,
    firstName: optional.firstName.optional(),
    lastName: optional.lastName.optional(),
    policy: optional.policy.optional(),
    managedAppleId: optional.managedAppleId.optional(),
    custom1: optional.custom1.optional(),
    custom2: optional.custom2.optional(),
    custom3: optional.custom3.optional(),
  })
  .openapi('UserBody');

/** Body of `PATCH /api/v1/users/{id}`: the fields given change; `null` clears an optional one. */
export const UserPatchBody = z
  .strictObject({
    username: username.optional(),
    email: email.optional(),
    groupId: groupId.optional(),
    firstName: optional.firstName.nullable().optional(),
    lastName: optional.lastName.nullable().optional(),
    policy: optional.policy.nullable().optional(),
    managedAppleId: optional.managedAppleId.nullable().optional(),
    custom1: optional.custom1.nullable().optional(),
    custom2: optional.custom2.nullable().optional(),
    custom3: optional.custom3.nullable().optional(),
  })
  .openapi('UserPatch');

/** A user as the API shows it; absent optional fields are `null`. */
export const UserView = z
  .object({
    id: z.string(),
    username: z.string(),
    email: z.string(),
    groupId: z.string(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    policy: z.string().nullable().openapi({
      description: "the name of the user's own policy (null: the group default applies)",
    }),
    policyId: z.string().nullable().openapi({ description: "the id of the user's own policy" }),
    managedAppleId: z.string().nullable(),
    custom1: z.string().nullable(),
    custom2: z.string().nullable(),
    custom3: z.string().nullable(),
    generic: z.boolean().openapi({ description: "made by a generic link's enrollment" }),
    createdAt: Instant,
    updatedAt: Instant,
  })
  .openapi('User');

/** The JSON of a user, with its policy's name and id. */
export async function userView(
  deps: Pick<AdminApiDeps, 'users'>,
  user: UserRecord,
): Promise<UserJson> {
  const [view] = await deps.users.views([user]);
  if (view === undefined) throw new TypeError('the user service answered no view');
  return view;
}

/** Body of `POST /api/v1/users/import` as JSON; a `text/csv` body arrives as `{csv}`. */
export const UserImportBody = z
  .strictObject({
    csv: z.string({ error: 'csv must be a string (the file)' }).openapi({
      description:
        'the CSV file: header username,email[,first_name,last_name,og,policy,managed_apple_id,send_invite,custom_1,custom_2,custom_3]',
    }),
  })
  .openapi('UserImportBody');

/** An import row's invitation: sent, or why not. */
export type Invitation = { invitation?: string };

/** The report of an import, with the invitation outcome of rows that asked for one. */
export const UserImportReportView = z
  .object({
    atomic: z.boolean(),
    applied: z.boolean().openapi({
      description: 'false when an atomic import had a refused row: nothing was stored',
    }),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    refused: z.number().int(),
    rows: z.array(
      z.object({
        line: z.number().int().openapi({ description: 'where the row starts; the header is 1' }),
        username: z.string(),
        outcome: z.enum(['created', 'updated', 'unchanged', 'refused']),
        reason: z.string().optional(),
        userId: z.string().optional(),
        sendInvite: z.boolean(),
        invitation: z.string().optional().openapi({
          description: '`sent`, or why the invitation was not sent (send_invite rows only)',
        }),
      }),
    ),
  })
  .openapi('UserImportReport');

/** The report as JSON. */
export type UserImportReportJson = Omit<UserImportReport, 'rows'> & {
  rows: (UserImportReport['rows'][number] & Invitation)[];
};
