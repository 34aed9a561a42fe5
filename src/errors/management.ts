/**
 * Errors of the management model: organization groups, settings inheritance, administrators'
 * scope and the profile library. Each names what blocked the change (`group`, `field`) so an
 * administrator can act on it; none is ever a 401.
 */
import { OrchardError, type OrchardErrorOptions } from './base.js';

/** Codes of {@link ManagementError}. */
export type ManagementErrorCode =
  | 'ERR_GROUP_NOT_FOUND'
  | 'ERR_GROUP_CYCLE'
  | 'ERR_GROUP_NOT_EMPTY'
  | 'ERR_GROUP_ROOT'
  | 'ERR_SETTINGS_PAGE'
  | 'ERR_SETTINGS_VALUES'
  | 'ERR_LOCKED_BY_ANCESTOR'
  | 'ERR_OVERRIDE_REQUIRED'
  | 'ERR_NOT_OVERRIDING'
  | 'ERR_ADMIN_SCOPE'
  | 'ERR_ADMIN_NOT_FOUND'
  | 'ERR_ADMIN_OWNER'
  | 'ERR_ADMIN_SELF'
  | 'ERR_ADMIN_DISABLED'
  | 'ERR_ADMIN_READ_ONLY'
  | 'ERR_PROFILE_NOT_FOUND'
  | 'ERR_PROFILE_INVALID'
  | 'ERR_PROFILE_IDENTIFIER_TAKEN'
  | 'ERR_PROFILE_IDENTIFIER_MISMATCH'
  | 'ERR_INTERACTIVE_DISABLED'
  | 'ERR_PROFILE_INTERACTIVE'
  | 'ERR_MANAGEMENT_BUSY'
  | 'ERR_USER_NOT_FOUND'
  | 'ERR_USERNAME_TAKEN'
  | 'ERR_USER_INVALID'
  | 'ERR_USER_CSV'
  | 'ERR_USER_NO_POLICY'
  | 'ERR_LINK_NOT_FOUND'
  | 'ERR_ENROLLMENT_TYPE_DISABLED'
  | 'ERR_POLICY_NOT_FOUND'
  | 'ERR_POLICY_NAME_TAKEN'
  | 'ERR_POLICY_IN_USE'
  | 'ERR_POLICY_UNKNOWN'
  | 'ERR_ASSIGNMENT_NOT_FOUND'
  | 'ERR_REMOVAL_CONTROL'
  | 'ERR_ENROLLMENT_NOT_FOUND'
  | 'ERR_DEVICE_PROFILE_NOT_FOUND'
  | 'ERR_NOT_INSTALLED_BY_ORCHARD'
  | 'ERR_PROFILE_NOT_OFFERED'
  | 'ERR_DEVICE_NOT_ENROLLED'
  | 'ERR_PROFILE_ASSIGNED';

const managementStatus: Record<ManagementErrorCode, number> = {
  ERR_GROUP_NOT_FOUND: 404,
  ERR_GROUP_CYCLE: 409,
  ERR_GROUP_NOT_EMPTY: 409,
  ERR_GROUP_ROOT: 409,
  ERR_SETTINGS_PAGE: 404,
  ERR_SETTINGS_VALUES: 422,
  ERR_LOCKED_BY_ANCESTOR: 409,
  ERR_OVERRIDE_REQUIRED: 409,
  ERR_NOT_OVERRIDING: 409,
  ERR_ADMIN_SCOPE: 403,
  ERR_ADMIN_NOT_FOUND: 404,
  ERR_ADMIN_OWNER: 409,
  ERR_ADMIN_SELF: 409,
  ERR_ADMIN_DISABLED: 409,
  ERR_ADMIN_READ_ONLY: 422,
  ERR_PROFILE_NOT_FOUND: 404,
  ERR_PROFILE_INVALID: 422,
  ERR_PROFILE_IDENTIFIER_TAKEN: 409,
  ERR_PROFILE_IDENTIFIER_MISMATCH: 422,
  ERR_INTERACTIVE_DISABLED: 422,
  ERR_PROFILE_INTERACTIVE: 409,
  ERR_MANAGEMENT_BUSY: 503,
  ERR_USERNAME_TAKEN: 409,
  ERR_USER_INVALID: 422,
  ERR_USER_CSV: 422,
  ERR_USER_NOT_FOUND: 404,
  ERR_USER_NO_POLICY: 409,
  ERR_LINK_NOT_FOUND: 404,
  ERR_ENROLLMENT_TYPE_DISABLED: 409,
  ERR_POLICY_NOT_FOUND: 404,
  ERR_POLICY_NAME_TAKEN: 409,
  ERR_POLICY_IN_USE: 409,
  ERR_POLICY_UNKNOWN: 422,
  ERR_ASSIGNMENT_NOT_FOUND: 404,
  ERR_REMOVAL_CONTROL: 422,
  ERR_ENROLLMENT_NOT_FOUND: 404,
  ERR_DEVICE_PROFILE_NOT_FOUND: 404,
  ERR_NOT_INSTALLED_BY_ORCHARD: 409,
  ERR_PROFILE_NOT_OFFERED: 409,
  ERR_DEVICE_NOT_ENROLLED: 409,
  ERR_PROFILE_ASSIGNED: 409,
};

/** Options of {@link ManagementError}. */
export interface ManagementErrorOptions extends OrchardErrorOptions {
  /** The organization group that blocks the change (e.g. the Inherit-Only ancestor). */
  group?: string;
  /** The request field at fault. */
  field?: string;
  /** Machine-readable problems for the client (e.g. each schema finding), shown in the JSON answer. */
  issues?: readonly unknown[];
}

/**
 * A management request was refused: the status follows the code (404 unknown group or page,
 * 409 a rule of the inheritance model, 422 invalid values or profiles, 403 outside the
 * administrator's scope). `group` names the organization group that blocks the change.
 */
export class ManagementError extends OrchardError {
  declare readonly name: 'ManagementError';
  readonly status: number;
  readonly group: string | undefined;
  readonly field: string | undefined;
  readonly issues: readonly unknown[] | undefined;
  constructor(
    readonly code: ManagementErrorCode,
    message: string,
    options?: ManagementErrorOptions,
  ) {
    super(message, options);
    this.status = managementStatus[code];
    this.group = options?.group;
    this.field = options?.field;
    this.issues = options?.issues;
  }
}
