/**
 * The per-device planner (rules M5, M6, M7, S3, S4): from what a device's effective policy
 * assigns and what Orchard recorded on it, what to install, update, keep, remove, skip or block.
 * Pure: compatibility and variables come in as functions, nothing is read or written here.
 */
import type { DeviceProfileRecord } from '../../storage/ports.js';
import type {
  CompatibilityVerdict,
  DesiredProfile,
  DeviceContext,
  DevicePlan,
  PlannedAction,
} from './types.js';

/** What {@link planDevice} needs about one device. */
export interface PlanInput {
  device: DeviceContext;
  /** Every assignment of the effective policy (all types). */
  desired: readonly DesiredProfile[];
  /** The device's current records. */
  records: readonly DeviceProfileRecord[];
  /** The compatibility verdict of a desired profile's latest version on this device. */
  judge(d: DesiredProfile): CompatibilityVerdict;
  /** Unresolved variable names of a desired profile on this device, `[]` when none. */
  unresolved(d: DesiredProfile): readonly string[];
  /** Identifiers on the device from a ProfileList answer (reconciliation only). */
  onDevice?: ReadonlyMap<string, { payloadUuid: string }>;
  /** `records` by identifier, when the caller has them so (else built here). */
  recordsByIdentifier?: ReadonlyMap<string, DeviceProfileRecord>;
  /** `desired` by identifier, when the caller has them so (else built here). */
  desiredByIdentifier?: ReadonlyMap<string, DesiredProfile>;
}

/** The reason a record carries once its user removed the profile on the device. */
export const REMOVED_ON_DEVICE = 'removed on the device';

/** States in which Orchard sent the profile, so it may remove it (M6). */
const SENT: ReadonlySet<string> = new Set(['installed', 'pending', 'failed']);

/** Why a profile is installed, as an install action says it. */
export type PlannedWhy = Extract<PlannedAction, { action: 'install' }>['why'];

/** The reason of a block: every unresolved variable named. */
export function unresolvedReason(names: readonly string[]): string {
  return `unresolved variable${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
}

/**
 * An install of `d`'s latest version through `channel`, unless its compatibility `verdict` fails
 * (skip, M7) or `unresolved` names variables the device cannot fill (block, S3). `unresolved` is
 * asked only for a compatible profile.
 */
export function installOrSkip(
  d: DesiredProfile,
  verdict: CompatibilityVerdict,
  unresolved: () => readonly string[],
  target: { channel: DeviceProfileRecord['channel']; why: PlannedWhy },
): PlannedAction {
  const { identifier, id: profileId, latestVersion: version } = d.profile;
  if (!verdict.ok) {
    const reason = verdict.reason ?? verdict.checks.find((c) => !c.ok)?.detail ?? 'incompatible';
    return { action: 'skip', identifier, profileId, version, reason };
  }
  const names = unresolved();
  if (names.length > 0)
    return { action: 'block', identifier, profileId, version, reason: unresolvedReason(names) };
  return { action: 'install', identifier, profileId, version, ...target };
}

/** An install of `d`'s latest version, unless it is incompatible (skip) or unresolved (block). */
function installOrNot(
  input: PlanInput,
  d: DesiredProfile,
  why: PlannedWhy,
  channel: DeviceProfileRecord['channel'],
): PlannedAction {
  return installOrSkip(d, input.judge(d), () => input.unresolved(d), { channel, why });
}

function keep(d: DesiredProfile): PlannedAction {
  return { action: 'keep', identifier: d.profile.identifier, profileId: d.profile.id };
}

/** Whether a reconciliation shows the device no longer has a profile Orchard put there. */
function missingOnDevice(input: PlanInput, record: DeviceProfileRecord): boolean {
  return (
    input.onDevice !== undefined &&
    (record.state === 'installed' || record.state === 'pending') &&
    !input.onDevice.has(record.identifier)
  );
}

/** An Auto profile: converge on its latest version. */
function planAuto(
  input: PlanInput,
  d: DesiredProfile,
  record: DeviceProfileRecord | undefined,
): PlannedAction {
  const latest = d.profile.latestVersion;
  if (record === undefined) return installOrNot(input, d, 'added', 'policy');
  if (missingOnDevice(input, record)) return installOrNot(input, d, 'reinstalled', 'policy');
  switch (record.state) {
    case 'installed':
    case 'pending':
      return record.version < latest ? installOrNot(input, d, 'updated', record.channel) : keep(d);
    case 'removed':
      if (record.reason !== REMOVED_ON_DEVICE) return installOrNot(input, d, 'added', 'policy');
      return input.onDevice ? installOrNot(input, d, 'reinstalled', 'policy') : keep(d);
    case 'failed':
      return record.version < latest ? installOrNot(input, d, 'added', 'policy') : keep(d);
    case 'skipped':
    case 'blocked':
    case 'removing':
      return installOrNot(input, d, 'added', 'policy');
  }
}

/** An Optional or Interactive profile: only a newer version where the device has it. */
function planOffered(
  input: PlanInput,
  d: DesiredProfile,
  record: DeviceProfileRecord | undefined,
): PlannedAction | undefined {
  if (record === undefined || (record.state !== 'installed' && record.state !== 'pending'))
    return undefined;
  if (missingOnDevice(input, record)) return keep(d);
  return record.version < d.profile.latestVersion
    ? installOrNot(input, d, 'updated', record.channel)
    : keep(d);
}

function emptyPlan(enrollmentId: string): DevicePlan {
  // One literal (no spread of a temporary object): a fleet plans 100,000 of these.
  return {
    enrollmentId,
    added: [],
    removed: [],
    updated: [],
    unchanged: [],
    skipped: [],
    blocked: [],
    actions: [],
  };
}

function record(plan: DevicePlan, a: PlannedAction): void {
  plan.actions.push(a);
  switch (a.action) {
    case 'install':
      (a.why === 'updated' ? plan.updated : plan.added).push(a.identifier);
      return;
    case 'remove':
      plan.removed.push(a.identifier);
      return;
    case 'keep':
      plan.unchanged.push(a.identifier);
      return;
    case 'skip':
      plan.skipped.push({ identifier: a.identifier, reason: a.reason });
      return;
    case 'block':
      plan.blocked.push({ identifier: a.identifier, reason: a.reason });
      return;
  }
}

/**
 * The plan of one device. Auto profiles converge on their latest version (install when absent,
 * removed by Orchard, skipped, blocked or failed at an older version; update when installed or
 * pending at an older one); Optional and Interactive ones are only updated where the device has
 * them; records Orchard sent whose profile is no longer assigned are removed (M6). Installs are
 * skipped when incompatible (M7) and blocked on unresolved variables (S3). With `onDevice`
 * (reconciliation), Auto profiles missing on the device are reinstalled, others kept for the
 * service to mark removed. Identifiers without a record are planned only when desired.
 * Actions come in identifier order.
 */
export function planDevice(input: PlanInput): DevicePlan {
  const byIdentifier =
    input.recordsByIdentifier ?? new Map(input.records.map((r) => [r.identifier, r]));
  const desired =
    input.desiredByIdentifier ?? new Map(input.desired.map((d) => [d.profile.identifier, d]));
  const actions: PlannedAction[] = [];
  for (const d of input.desired) {
    const identifier = d.profile.identifier;
    const current = byIdentifier.get(identifier);
    const action =
      d.assignment.assignmentType === 'auto'
        ? planAuto(input, d, current)
        : planOffered(input, d, current);
    if (action) actions.push(action);
  }
  for (const r of input.records) {
    if (desired.has(r.identifier) || !SENT.has(r.state)) continue;
    actions.push({ action: 'remove', identifier: r.identifier, profileId: r.profileId });
  }
  actions.sort((a, b) => (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0));
  const plan = emptyPlan(input.device.enrollment.id);
  for (const a of actions) record(plan, a);
  return plan;
}
