/**
 * Planning one run of the delivery service: the snapshot with the content of every profile it
 * assigns, each device's context (facts, owner, group: one read per page) and records, read in
 * pages, and the planner's verdict per device. Nothing here writes.
 */
import type {
  DeviceProfileRecord,
  EnrollmentRecord,
  OwnedDevice,
  OwnedEnrollment,
  OwnedEnrollmentFilter,
  UserRecord,
} from '../../storage/ports.js';
import { planDevice, type PlanInput } from './plan.js';
import type { DeliveryContext, VersionContent } from './service-context.js';
import { desiredProfiles } from './snapshot.js';
import { deviceTargetOf } from './target.js';
import type {
  CompatibilityVerdict,
  DesiredProfile,
  DeviceContext,
  DevicePlan,
  DeviceTarget,
  PolicySnapshot,
} from './types.js';
import { resolveVariables } from './variables.js';

/** The snapshot a run plans against, with the latest content of every profile it assigns. */
export interface PlanRun {
  snapshot: PolicySnapshot;
  /** Latest version content by profile id (profiles whose version is gone are left out). */
  contents: ReadonlyMap<string, VersionContent>;
  /** Desired profiles by user policy (`''` for none), then user group: users alike share one list. */
  desired: Map<string, Map<string, DesiredProfile[]>>;
  /** Device targets by the facts they are read from: devices alike share one (and its verdicts). */
  targets: TargetTree;
  /**
   * Verdicts of this run's versions by target object, then profile id: the judge's own cache
   * builds a key string per call, this one none (contents are fixed for the run).
   */
  verdicts: WeakMap<DeviceTarget, Map<string, CompatibilityVerdict>>;
}

/** One device as a run sees it: context, records and desired profiles by identifier, and plan. */
export interface DeviceWork {
  device: DeviceContext;
  records: Map<string, DeviceProfileRecord>;
  desired: Map<string, DesiredProfile>;
  plan: DevicePlan;
}

/** Page size of owned enrollments read at once. */
export const OWNED_PAGE = 10_000;

/** Loads the latest content of every profile `snapshot` assigns (cached by version). */
export async function prepareRun(ctx: DeliveryContext, snapshot: PolicySnapshot): Promise<PlanRun> {
  const contents = new Map<string, VersionContent>();
  for (const profile of snapshot.profiles.values()) {
    try {
      contents.set(profile.id, await ctx.version(profile.id, profile.latestVersion));
    } catch (err) {
      // A profile deleted since the snapshot was read: nothing can be sent for it.
      ctx.deps.logger.warn({ err, profileId: profile.id }, 'profile version not found');
    }
  }
  return { snapshot, contents, desired: new Map(), targets: new Map(), verdicts: new WeakMap() };
}

/**
 * The profiles `user`'s effective policy assigns, in profile id order (one whose version cannot
 * be read is judged incompatible, so it is skipped rather than removed).
 */
export function desiredFor(run: PlanRun, user: UserRecord): DesiredProfile[] {
  let byGroup = run.desired.get(user.policy ?? '');
  if (!byGroup) run.desired.set(user.policy ?? '', (byGroup = new Map<string, DesiredProfile[]>()));
  let list = byGroup.get(user.groupId);
  if (!list) byGroup.set(user.groupId, (list = desiredProfiles(run.snapshot, user)));
  return list;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Device targets by type, ProductName, Model, OSVersion, then supervision. */
export type TargetTree = Map<
  string,
  Map<string, Map<string, Map<string, Map<string, DeviceTarget>>>>
>;

/** The map under `key` in `tree`, created on first use. */
function branch<K, V>(tree: Map<K, Map<string, V>>, key: K): Map<string, V> {
  let next = tree.get(key);
  if (!next) tree.set(key, (next = new Map<string, V>()));
  return next;
}

/**
 * The target of `enrollment`, shared by every enrollment with the same facts that
 * {@link deviceTargetOf} reads (type, ProductName, Model, OSVersion, IsSupervised): one object
 * per kind of device, so the judge keys and caches it once. Found through a tree of maps, so a
 * fleet of 100,000 builds no key string.
 */
function targetOf(run: PlanRun, enrollment: EnrollmentRecord): DeviceTarget {
  const f = enrollment.facts;
  const supervised = typeof f.IsSupervised === 'boolean' ? String(f.IsSupervised) : '?';
  const byProduct = branch(run.targets, enrollment.type);
  const byModel = branch(byProduct, text(f.ProductName));
  const byVersion = branch(byModel, text(f.Model));
  const bySupervision = branch(byVersion, text(f.OSVersion));
  let target = bySupervision.get(supervised);
  if (!target) bySupervision.set(supervised, (target = deviceTargetOf(enrollment)));
  return target;
}

/** The planner's context of an enrollment owned by `user` (or nobody). */
export function deviceContextOf(
  run: PlanRun,
  enrollment: EnrollmentRecord,
  user: UserRecord | undefined,
): DeviceContext {
  const device: DeviceContext = { enrollment, target: targetOf(run, enrollment) };
  if (!user) return device;
  device.user = user;
  const group = run.snapshot.tree.get(user.groupId);
  if (group) device.group = group;
  return device;
}

/** Unresolved variables of a version on `device` (none for a profile without variables). */
export function unresolvedOf(
  content: VersionContent | undefined,
  device: DeviceContext,
): readonly string[] {
  if (!content || content.variables.length === 0) return [];
  return resolveVariables(content.variables, device).unresolved;
}

/** The verdict of `d`'s latest version on `target`, judged once per run. */
function judgeOnce(
  ctx: DeliveryContext,
  run: PlanRun,
  d: DesiredProfile,
  target: DeviceTarget,
): CompatibilityVerdict {
  let byProfile = run.verdicts.get(target);
  if (!byProfile) run.verdicts.set(target, (byProfile = new Map<string, CompatibilityVerdict>()));
  let verdict = byProfile.get(d.profile.id);
  if (verdict === undefined) {
    const c = run.contents.get(d.profile.id);
    verdict = c
      ? ctx.judge.judge(d.profile, c.version, c.content, target)
      : { ok: false, checks: [], reason: 'the profile version is not stored' };
    byProfile.set(d.profile.id, verdict);
  }
  return verdict;
}

/**
 * The planner's input for one device: its judge and variables are methods on the prototype, so
 * planning a fleet makes no closures per device.
 */
class DeviceInput implements PlanInput {
  onDevice?: ReadonlyMap<string, { payloadUuid: string }>;

  constructor(
    readonly ctx: DeliveryContext,
    readonly run: PlanRun,
    readonly device: DeviceContext,
    readonly desired: readonly DesiredProfile[],
    readonly records: readonly DeviceProfileRecord[],
    readonly recordsByIdentifier: ReadonlyMap<string, DeviceProfileRecord>,
    readonly desiredByIdentifier: ReadonlyMap<string, DesiredProfile>,
  ) {}

  judge(d: DesiredProfile): CompatibilityVerdict {
    return judgeOnce(this.ctx, this.run, d, this.device.target);
  }

  unresolved(d: DesiredProfile): readonly string[] {
    return unresolvedOf(this.run.contents.get(d.profile.id), this.device);
  }
}

/** Plans one device against `desired` (every assignment type) and its records. */
export function planWork(
  ctx: DeliveryContext,
  run: PlanRun,
  device: DeviceContext,
  desired: readonly DesiredProfile[],
  records: readonly DeviceProfileRecord[],
  onDevice?: ReadonlyMap<string, { payloadUuid: string }>,
): DeviceWork {
  const byId = new Map<string, DeviceProfileRecord>();
  for (const r of records) byId.set(r.identifier, r);
  const index = byIdentifier(desired);
  const input = new DeviceInput(ctx, run, device, desired, records, byId, index);
  if (onDevice) input.onDevice = onDevice;
  return { device, records: byId, desired: index, plan: planDevice(input) };
}

// Devices alike share one desired list; its index is built once per list.
const indexes = new WeakMap<readonly DesiredProfile[], Map<string, DesiredProfile>>();

function byIdentifier(desired: readonly DesiredProfile[]): Map<string, DesiredProfile> {
  let index = indexes.get(desired);
  if (!index) {
    index = new Map(desired.map((d) => [d.profile.identifier, d]));
    indexes.set(desired, index);
  }
  return index;
}

/** Groups records by enrollment id. */
function byEnrollment(records: readonly DeviceProfileRecord[]) {
  const out = new Map<string, DeviceProfileRecord[]>();
  for (const r of records) {
    const list = out.get(r.enrollmentId);
    if (list) list.push(r);
    else out.set(r.enrollmentId, [r]);
  }
  return out;
}

/**
 * Plans a page of owned devices: their records read in one call; `userOf` lays a change over
 * each owner (for previews).
 */
export async function planPage(
  ctx: DeliveryContext,
  run: PlanRun,
  owned: readonly OwnedDevice[],
  userOf: (user: UserRecord) => UserRecord = (u) => u,
): Promise<DeviceWork[]> {
  const records = byEnrollment(
    await ctx.deps.store.listDeviceProfilesOf(owned.map((o) => o.enrollmentId)),
  );
  const out: DeviceWork[] = new Array<DeviceWork>(owned.length);
  for (let i = 0; i < owned.length; i++) {
    const o = owned[i] as OwnedDevice;
    const user = userOf(o.user);
    const device = deviceContextOf(run, o.enrollment, user);
    out[i] = planWork(ctx, run, device, desiredFor(run, user), records.get(o.enrollmentId) ?? []);
  }
  return out;
}

/**
 * Calls `fn` with each page of owned devices (owner and enrollment record, read in one call)
 * matching `filter`, in enrollment id order; owned enrollments without a record are left out.
 */
export async function forEachOwnedDevicePage(
  ctx: DeliveryContext,
  filter: OwnedEnrollmentFilter,
  fn: (page: OwnedDevice[]) => Promise<void>,
): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await ctx.ownedDevices(filter, {
      limit: OWNED_PAGE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    if (page.items.length > 0) await fn(page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** Calls `fn` with each page of owned enrollments matching `filter`, in enrollment id order. */
export async function forEachOwnedPage(
  ctx: DeliveryContext,
  filter: OwnedEnrollmentFilter,
  fn: (page: OwnedEnrollment[]) => Promise<void>,
): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await ctx.deps.store.listOwnedEnrollments(filter, {
      limit: OWNED_PAGE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    if (page.items.length > 0) await fn(page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}
