/**
 * The shared vocabulary of policies and delivery (rules M5-M7, S3, S4, S8, B1): what a policy
 * change is, what a device should have, how a device is judged, what a plan does to it, and the
 * service that carries plans out. The policy service, the delivery planner and the delivery
 * service all speak these types; none of them is a store.
 */
import type { Platform } from '../../schema/facts.js';
import type {
  AssignmentType,
  DeliveryChannel,
  DeviceProfileRecord,
  DeviceProfileState,
  EnrollmentRecord,
  LibraryProfileRecord,
  OrgGroupRecord,
  Page,
  PolicyAssignmentRecord,
  PolicyRecord,
  RemovalControl,
  UserRecord,
} from '../../storage/ports.js';
import type { GroupTree } from '../tree.js';

// ---------------------------------------------------------------------------------------------
// Policies as the planner sees them.
// ---------------------------------------------------------------------------------------------

/**
 * One consistent view of every policy, assignment, group default policy and assigned library
 * profile, with the group tree; small (hundreds of rows), loaded once per change.
 */
export interface PolicySnapshot {
  readonly tree: GroupTree;
  readonly policies: ReadonlyMap<string, PolicyRecord>;
  /** Assignments by policy id, in profile id order. */
  readonly assignments: ReadonlyMap<string, readonly PolicyAssignmentRecord[]>;
  /** Default policy by group id. */
  readonly groupPolicies: ReadonlyMap<string, string>;
  /** Every library profile some assignment names, by id. */
  readonly profiles: ReadonlyMap<string, LibraryProfileRecord>;
}

/** Where a user's effective policy comes from: their own, a group's default, or nowhere. */
export type PolicySource = { kind: 'user' } | { kind: 'group'; groupId: string } | { kind: 'none' };

/** A user's one effective policy: their own if set, else the nearest group's default up the tree. */
export interface EffectivePolicy {
  policy?: PolicyRecord;
  source: PolicySource;
}

/** One profile a device's effective policy assigns, with the library record it names. */
export interface DesiredProfile {
  policy: PolicyRecord;
  assignment: PolicyAssignmentRecord;
  profile: LibraryProfileRecord;
}

/**
 * A change to policies, users or groups that may change what devices should have; previewed
 * (S4) before it is applied, or applied after the store was written.
 */
export type PolicyChange =
  | {
      kind: 'assign';
      policyId: string;
      profileId: string;
      assignmentType: AssignmentType;
      removal: RemovalControl;
    }
  | { kind: 'unassign'; policyId: string; profileId: string }
  /** A group's default policy set (`policyId`) or cleared (absent). */
  | { kind: 'group-policy'; groupId: string; policyId?: string }
  /** A user's own policy set or cleared. */
  | { kind: 'user-policy'; userId: string; policyId?: string }
  /** A new version of a library profile: re-queued only where it is installed or pending (M6). */
  | { kind: 'profile-version'; profileId: string; version: number }
  /** Re-evaluate these users' devices (their group or policy changed by an import or an edit). */
  | { kind: 'users'; userIds: readonly string[] }
  /** Re-evaluate the devices of users in these groups (e.g. the groups moved). */
  | { kind: 'groups'; groupIds: readonly string[] };

// ---------------------------------------------------------------------------------------------
// A device as the planner judges it.
// ---------------------------------------------------------------------------------------------

/** A device fact the planner needs but the device has not reported yet. */
export type UnknownFact = 'platform' | 'osVersion' | 'supervised';

/**
 * What a device is, from its enrollment record: platform (from `ProductName`/`Model`), OS
 * version, supervision (`IsSupervised` from a DeviceInformation answer), enrollment type and
 * channel. A fact not reported yet is absent and named in `unknown`.
 */
export interface DeviceTarget {
  platform?: Platform;
  osVersion?: string;
  supervised?: boolean;
  /** Profile-based device enrollment, User Enrollment, or Automated Device Enrollment. */
  enrollment: 'device' | 'user' | 'ade';
  channel: 'device' | 'user';
  sharedIPad: boolean;
  unknown: readonly UnknownFact[];
}

/** Everything the planner knows about one enrollment. */
export interface DeviceContext {
  enrollment: EnrollmentRecord;
  target: DeviceTarget;
  /** The owning user; absent for an enrollment nobody owns (it gets no policy). */
  user?: UserRecord;
  /** The user's group (the device's organization group). */
  group?: OrgGroupRecord;
}

/** One check of the compatibility filter (M7), as the explain trace shows it. */
export interface CompatibilityCheck {
  check: 'platform' | 'os-version' | 'supervision' | 'enrollment-type' | 'channel' | 'payload';
  ok: boolean;
  /** In words, e.g. `AllowCamera requires a supervised device` or `iOS 17.4 >= 16.0`. */
  detail: string;
}

/** Whether one profile version may be sent to one device, and why not. */
export interface CompatibilityVerdict {
  ok: boolean;
  checks: readonly CompatibilityCheck[];
  /** The first failing check's detail, as the device record's `reason` (`skipped`). */
  reason?: string;
}

/** The variables a profile may use (S3), resolved per device at queue time. */
export const PROFILE_VARIABLES = [
  '$SERIAL',
  '$UDID',
  '$USERNAME',
  '$EMAIL',
  '$OG',
  '$CUSTOM_1',
  '$CUSTOM_2',
  '$CUSTOM_3',
] as const;

/** One of {@link PROFILE_VARIABLES}. */
export type ProfileVariable = (typeof PROFILE_VARIABLES)[number];

/** One variable of a profile on one device: resolved (its value is not shown) or not. */
export interface VariableResolution {
  name: ProfileVariable;
  resolved: boolean;
  /** Where the value comes from, e.g. `enrollment fact SerialNumber`, `user ann`. */
  source: string;
}

// ---------------------------------------------------------------------------------------------
// Plans: what a change does to each device.
// ---------------------------------------------------------------------------------------------

/** One thing a plan does to one device for one profile. */
export type PlannedAction =
  | {
      action: 'install';
      identifier: string;
      profileId: string;
      version: number;
      channel: DeliveryChannel;
      /** `added` (new on the device), `updated` (a newer version), `reinstalled` (missing again). */
      why: 'added' | 'updated' | 'reinstalled';
    }
  | { action: 'remove'; identifier: string; profileId: string }
  | { action: 'skip'; identifier: string; profileId: string; version: number; reason: string }
  | { action: 'block'; identifier: string; profileId: string; version: number; reason: string }
  | { action: 'keep'; identifier: string; profileId: string };

/** What a change does to one device (S4), by identifier. */
export interface DevicePlan {
  enrollmentId: string;
  added: string[];
  removed: string[];
  updated: string[];
  unchanged: string[];
  skipped: { identifier: string; reason: string }[];
  blocked: { identifier: string; reason: string }[];
  actions: PlannedAction[];
}

/** A change's effect on every device it reaches: per-device plans (at most `limit`) and totals. */
export interface ChangeReport {
  /** Whether it was applied (false for a preview). */
  applied: boolean;
  /** Devices the change reaches. */
  devices: number;
  totals: {
    added: number;
    removed: number;
    updated: number;
    unchanged: number;
    skipped: number;
    blocked: number;
  };
  /** Per-device plans, the first `limit` devices in enrollment id order (default 100). */
  plans: DevicePlan[];
  /** True when `plans` was cut at the limit. */
  truncated: boolean;
  /** Commands queued (0 for a preview). */
  commandsQueued: number;
}

/** What the policy service asks of delivery: preview a change, or apply it once stored. */
export interface PolicyEffects {
  /** What `change` would do to every device it reaches, touching nothing (S4). */
  preview(change: PolicyChange, options?: { limit?: number }): Promise<ChangeReport>;
  /**
   * Carries `change` out on every device it reaches after the store holds it: installs queued in
   * batches, removals only for profiles Orchard installed (M6), one coalesced push per device.
   */
  apply(change: PolicyChange, options?: { limit?: number }): Promise<ChangeReport>;
}

// ---------------------------------------------------------------------------------------------
// Seeing it: a device's profiles and the explain trace (B1).
// ---------------------------------------------------------------------------------------------

/** One profile of one device as `GET /api/v1/enrollments/{id}/profiles` shows it. */
export interface DeviceProfileView {
  identifier: string;
  profileId: string;
  name: string;
  /** Desired: the effective policy assigns it (Auto), or it is offered (Optional, Interactive). */
  assignmentType?: AssignmentType;
  removal?: RemovalControl;
  desired: boolean;
  /** Absent when nothing was ever sent or decided for this device. */
  state?: DeviceProfileState;
  reason?: string;
  version?: number;
  latestVersion: number;
  channel?: DeliveryChannel;
  commandUuid?: string;
  installedAt?: string;
  updatedAt?: string;
}

/** Every profile of one device, by what became of it. */
export interface DeviceProfilesView {
  enrollmentId: string;
  userId?: string;
  groupId?: string;
  policy?: { id: string; name: string; source: PolicySource };
  desired: DeviceProfileView[];
  installed: DeviceProfileView[];
  pending: DeviceProfileView[];
  skipped: DeviceProfileView[];
  failed: DeviceProfileView[];
  blocked: DeviceProfileView[];
  /** Optional and Interactive profiles the user may install (not installed now). */
  offered: DeviceProfileView[];
  removed: DeviceProfileView[];
  /** When the device's installed profiles were last compared with a ProfileList answer. */
  reconciledAt?: string;
}

/** The decision for one (device, profile) in one word, as the trace's `decision` says it. */
export type ExplainDecision =
  | 'install'
  | 'installed'
  | 'pending'
  | 'skipped'
  | 'blocked'
  | 'failed'
  | 'offered'
  | 'removed'
  | 'not-assigned';

/** One group of the device's chain with the settings that decided something, and where from. */
export interface ExplainGroup {
  groupId: string;
  name: string;
  /** Its default policy, when it has one. */
  policyId?: string;
  settings: {
    page: string;
    currentSetting: 'inherit' | 'override';
    /** Where the effective values of this page come from. */
    sourceGroupId: string;
    values: Record<string, unknown>;
  }[];
}

/** The decision trace of one profile on one device (B1); JSON, stable for golden files. */
export interface ExplainTrace {
  enrollmentId: string;
  identifier: string;
  decision: ExplainDecision;
  /** One sentence saying why. */
  summary: string;
  device: {
    type: string;
    platform: string | null;
    osVersion: string | null;
    supervised: boolean | null;
    enrollment: DeviceTarget['enrollment'];
    unknown: readonly UnknownFact[];
  };
  /** The device's organization group and its ancestors, nearest first. */
  groups: ExplainGroup[];
  user: { id: string; username: string; groupId: string } | null;
  policy: { id: string; name: string; source: PolicySource } | null;
  assignment: { policyId: string; assignmentType: AssignmentType; removal: RemovalControl } | null;
  profile: { id: string; name: string; groupId: string; latestVersion: number } | null;
  compatibility: readonly CompatibilityCheck[];
  variables: readonly VariableResolution[];
  removal: {
    control: RemovalControl | null;
    /** What is sent: e.g. `PayloadRemovalDisallowed is set`, `a removal password payload is added`. */
    effect: string;
    /** Who may remove it, from the same `canRemove` rules the device simulator uses. */
    user: string;
  } | null;
  record: {
    state: DeviceProfileState;
    reason: string | null;
    version: number;
    channel: DeliveryChannel;
    updatedAt: string;
  } | null;
}

/** The delivery side as the admin API, the portal and the daemon use it. */
export interface DeliveryService extends PolicyEffects {
  /**
   * Evaluates one enrollment against its effective policy now and queues what it lacks (at the
   * first TokenUpdate, when its facts changed, at reconciliation); resolves the plan applied.
   */
  deliverTo(
    enrollmentId: string,
    reason: 'enrolled' | 'facts' | 'reconcile' | 'admin',
  ): Promise<DevicePlan>;
  /**
   * Installs an Optional profile at an administrator's request, or an Optional or Interactive one
   * at its user's (`channel: 'user'`; Interactive only where the device's group allows it, A13).
   * 409 `ERR_PROFILE_NOT_OFFERED` when the device's effective policy does not offer it, 409
   * `ERR_PROFILE_INTERACTIVE` for an administrator and an Interactive profile.
   */
  install(
    enrollmentId: string,
    profileId: string,
    channel: 'admin' | 'user',
  ): Promise<DeviceProfileRecord>;
  /**
   * Queues RemoveProfile for a profile Orchard installed (409 `ERR_NOT_INSTALLED_BY_ORCHARD`
   * otherwise); the portal checks the removal rules first.
   */
  remove(
    enrollmentId: string,
    identifier: string,
    channel: 'admin' | 'user',
  ): Promise<DeviceProfileRecord>;
  /** Queues a ProfileList now (and pushes); the answer is compared when it arrives. */
  reconcile(enrollmentId: string): Promise<{ commandUuid: string }>;
  /** Queues ProfileList for up to `limit` enrolled devices not reconciled since `now - interval`. */
  reconcileDue(now: Date, limit: number): Promise<number>;
  /** A device's profiles by state. */
  deviceProfiles(enrollmentId: string): Promise<DeviceProfilesView>;
  /** The decision trace of one profile on one device (B1). */
  explain(enrollmentId: string, identifier: string): Promise<ExplainTrace>;
}

// ---------------------------------------------------------------------------------------------
// The policy service (owned by groups, scoped like the profile library).
// ---------------------------------------------------------------------------------------------

/** How a profile is assigned in a policy; defaults: the library profile's type, removal `always`. */
export interface AssignmentInput {
  assignmentType?: AssignmentType;
  removal?: RemovalControl;
}

/** Options of a policy change: `dryRun` previews it (S4) and stores nothing. */
export interface PolicyChangeOptions {
  dryRun?: boolean;
  /** Per-device plans in the report (default 100). */
  limit?: number;
}

/** A policy change's result: the change report, and the record as stored (absent on a dry run). */
export interface PolicyChangeResult<T> {
  value?: T;
  report: ChangeReport;
}

/**
 * Policies owned by organization groups: their profiles with assignment types and removal
 * controls, groups' default policies, and each user's effective policy. Every change that can
 * reach devices is previewed or applied through {@link PolicyEffects}.
 */
export interface PolicyService {
  /** Creates a policy; 409 `ERR_POLICY_NAME_TAKEN`, 404 `ERR_GROUP_NOT_FOUND`. */
  create(input: { name: string; description?: string; groupId: string }): Promise<PolicyRecord>;
  /** Renames, describes or moves a policy (A13 re-checked for its Interactive profiles on a move). */
  update(
    id: string,
    change: { name?: string; description?: string | null; groupId?: string },
  ): Promise<PolicyRecord>;
  /** Deletes an unused policy; 409 `ERR_POLICY_IN_USE` naming what uses it. */
  delete(id: string): Promise<void>;
  /** The policy; 404 `ERR_POLICY_NOT_FOUND`. */
  get(id: string): Promise<PolicyRecord>;
  /** A policy by id or name (case-insensitively); 422 `ERR_POLICY_UNKNOWN` naming `ref`. */
  resolve(ref: string): Promise<PolicyRecord>;
  /** Policies in id order, of `groupIds` only when given. */
  list(options: {
    limit: number;
    cursor?: string;
    groupIds?: readonly string[];
  }): Promise<Page<PolicyRecord>>;
  /** The policy's assignments (removal passwords left out). */
  assignments(policyId: string): Promise<PolicyAssignmentRecord[]>;
  /**
   * Assigns (or re-assigns) a library profile: 422 `ERR_INTERACTIVE_DISABLED` for Interactive
   * where the policy's group does not allow it (A13), 422 `ERR_REMOVAL_CONTROL` for `never` on a
   * profile no supervised device can take; `with-authorization` generates a removal password.
   */
  assign(
    policyId: string,
    profileId: string,
    input: AssignmentInput,
    options?: PolicyChangeOptions,
  ): Promise<PolicyChangeResult<PolicyAssignmentRecord>>;
  /** Removes a profile from a policy; 404 `ERR_ASSIGNMENT_NOT_FOUND`. */
  unassign(
    policyId: string,
    profileId: string,
    options?: PolicyChangeOptions,
  ): Promise<PolicyChangeResult<never>>;
  /** The removal password of a `with-authorization` assignment, for the administrator to hand out. */
  removalPassword(policyId: string, profileId: string): Promise<string>;
  /** Sets or (with `undefined`) clears a group's default policy. */
  setGroupPolicy(
    groupId: string,
    policyId: string | undefined,
    options?: PolicyChangeOptions,
  ): Promise<PolicyChangeResult<never>>;
  /** The user's effective policy now. */
  effectivePolicy(user: UserRecord): Promise<EffectivePolicy>;
  /** A consistent snapshot of every policy (for planners and previews). */
  snapshot(): Promise<PolicySnapshot>;
}
