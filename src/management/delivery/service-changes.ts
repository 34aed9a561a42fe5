/**
 * Previewing and applying a policy change (rule S4), and delivering to one device: every owned
 * enrollment the change can reach is read in pages of 10,000 (owner and enrollment record in one
 * call) and planned; applying queues the
 * plans of enrolled devices through one execution (one command per distinct body, one push).
 * An enrollment that is not enrolled is planned and counted, but nothing is queued or recorded
 * for it: it is planned again when it enrolls.
 */
import type { OwnedDevice, OwnedEnrollmentFilter, UserRecord } from '../../storage/ports.js';
import { createExecution } from './batch.js';
import type { DeliveryContext } from './service-context.js';
import {
  deviceContextOf,
  forEachOwnedDevicePage,
  OWNED_PAGE,
  planPage,
  planWork,
  prepareRun,
  desiredFor,
  type DeviceWork,
} from './service-plan.js';
import { applyChange, groupsWithDefault, reachOf, userAfter } from './snapshot.js';
import type { ChangeReport, DevicePlan, PolicyChange, PolicySnapshot } from './types.js';

const DEFAULT_LIMIT = 100;

/** Accumulates a change report; keeps the `limit` plans of the lowest enrollment ids. */
function reportBuilder(limit: number, applied: boolean) {
  const totals = { added: 0, removed: 0, updated: 0, unchanged: 0, skipped: 0, blocked: 0 };
  let plans: DevicePlan[] = [];
  let devices = 0;
  // Once `limit` plans are kept, the highest kept id: a plan above it can never be reported.
  let highest: string | undefined;
  const trim = () => {
    plans.sort((a, b) =>
      a.enrollmentId < b.enrollmentId ? -1 : a.enrollmentId > b.enrollmentId ? 1 : 0,
    );
    plans = plans.slice(0, limit);
    highest = plans.length >= limit ? plans.at(-1)?.enrollmentId : undefined;
  };
  return {
    add(plan: DevicePlan) {
      devices++;
      totals.added += plan.added.length;
      totals.removed += plan.removed.length;
      totals.updated += plan.updated.length;
      totals.unchanged += plan.unchanged.length;
      totals.skipped += plan.skipped.length;
      totals.blocked += plan.blocked.length;
      // Pages come in enrollment id order: past the first `limit`, plans are counted only.
      if (highest !== undefined && plan.enrollmentId > highest) return;
      plans.push(plan);
      if (plans.length > 2 * limit + 100) trim();
    },
    done(commandsQueued: number): ChangeReport {
      trim();
      return { applied, devices, totals, plans, truncated: devices > plans.length, commandsQueued };
    },
  };
}

/** Owned enrollments whose effective policy is one of `policyIds`, in `snapshot`. */
function policyFilter(
  snapshot: PolicySnapshot,
  policyIds: readonly string[],
): OwnedEnrollmentFilter {
  const groups = new Set<string>();
  for (const id of policyIds) for (const g of groupsWithDefault(snapshot, id)) groups.add(g);
  return { userPolicyIds: policyIds, groupsWithoutUserPolicy: [...groups] };
}

/**
 * A new version reaches the devices whose record is installed or pending (M6) and the devices
 * whose effective policy assigns the profile Auto (convergence), each once.
 */
async function forEachVersionPage(
  ctx: DeliveryContext,
  snapshot: PolicySnapshot,
  profileId: string,
  fn: (page: OwnedDevice[]) => Promise<void>,
): Promise<void> {
  const auto = [...snapshot.assignments]
    .filter(([, list]) =>
      list.some((a) => a.profileId === profileId && a.assignmentType === 'auto'),
    )
    .map(([policyId]) => policyId);
  const seen = new Set<string>();
  const visit = async (page: OwnedDevice[]) => {
    const fresh = page.filter((o) => !seen.has(o.enrollmentId));
    for (const o of fresh) seen.add(o.enrollmentId);
    if (fresh.length > 0) await fn(fresh);
  };
  if (auto.length > 0) await forEachOwnedDevicePage(ctx, policyFilter(snapshot, auto), visit);
  let cursor: string | undefined;
  do {
    const page = await ctx.deps.store.listProfileDevices(profileId, {
      limit: OWNED_PAGE,
      states: ['installed', 'pending'],
      ...(cursor === undefined ? {} : { cursor }),
    });
    const ids = page.items.map((r) => r.enrollmentId).filter((id) => !seen.has(id));
    if (ids.length > 0) await forEachOwnedDevicePage(ctx, { enrollmentIds: ids }, visit);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** Previews (`execute` false) or applies a change; see {@link PolicyEffects}. */
export async function runChange(
  ctx: DeliveryContext,
  change: PolicyChange,
  options: { limit?: number } | undefined,
  execute: boolean,
): Promise<ChangeReport> {
  const limit = options?.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) throw new TypeError('limit must be a whole number');
  const current = await ctx.snapshot(true);
  // Applied: the store already holds the change. Previewed: lay it over what is stored.
  let after = current;
  if (!execute) {
    const profile =
      change.kind === 'assign'
        ? await ctx.deps.store.findLibraryProfile(change.profileId)
        : undefined;
    after = applyChange(current, change, ctx.deps.clock(), profile);
  }
  const run = await prepareRun(ctx, after);
  const report = reportBuilder(limit, execute);
  const execution = execute ? createExecution(ctx) : undefined;
  const userOf = execute ? undefined : (u: UserRecord) => userAfter(u, change);
  const handle = async (page: OwnedDevice[]) => {
    for (const work of await planPage(ctx, run, page, userOf)) {
      report.add(work.plan);
      if (!execution || !work.device.enrollment.enrolled) continue;
      const pending = execution.add(work);
      if (pending) await pending;
    }
  };
  if (change.kind === 'profile-version')
    await forEachVersionPage(ctx, after, change.profileId, handle);
  else await forEachOwnedDevicePage(ctx, reachOf(current, after, change) ?? {}, handle);
  const done = execution ? await execution.finish() : undefined;
  return report.done(done?.commandsQueued ?? 0);
}

/** An empty plan, for an enrollment nobody owns or that is not enrolled. */
export function emptyPlan(enrollmentId: string): DevicePlan {
  return {
    ...{ enrollmentId, added: [], removed: [], updated: [], unchanged: [] },
    ...{ skipped: [], blocked: [], actions: [] },
  };
}

/** The user who owns an enrollment, or `undefined` when nobody does. */
export async function ownerOf(
  ctx: DeliveryContext,
  enrollmentId: string,
): Promise<UserRecord | undefined> {
  const owner = await ctx.deps.store.findEnrollmentOwner(enrollmentId);
  return owner ? ctx.deps.store.findUser(owner.userId) : undefined;
}

/**
 * Turns `keep` into a resend of the latest version for profiles assigned `never` the device has:
 * they went out before it was known to be supervised, so without `PayloadRemovalDisallowed`.
 */
function relock(work: DeviceWork): void {
  const plan = work.plan;
  plan.actions = plan.actions.map((a) => {
    const d = work.desired.get(a.identifier);
    const r = work.records.get(a.identifier);
    if (a.action !== 'keep' || d?.assignment.removal !== 'never' || !r) return a;
    if (r.state !== 'installed' && r.state !== 'pending') return a;
    plan.unchanged = plan.unchanged.filter((i) => i !== a.identifier);
    plan.updated.push(a.identifier);
    const { identifier, profileId } = a;
    const version = d.profile.latestVersion;
    return {
      action: 'install',
      identifier,
      profileId,
      version,
      channel: r.channel,
      why: 'updated',
    };
  });
}

/**
 * Plans one enrollment now and carries the plan out (nothing for an enrollment nobody owns or
 * that is not enrolled). `fresh` reads the policies again; device events reuse a snapshot a
 * few seconds old, so a burst of enrollments reads them once. `supervisedNow` resends what was
 * sent unlocked before supervision was known ({@link relock}). `pushed`: a command was queued
 * (and the device pushed).
 */
export async function deliverOne(
  ctx: DeliveryContext,
  enrollmentId: string,
  options: { fresh?: boolean; supervisedNow?: boolean } = {},
): Promise<DevicePlan & { pushed: boolean }> {
  const enrollment = await ctx.requireEnrollment(enrollmentId);
  const user = await ownerOf(ctx, enrollmentId);
  if (!user || !enrollment.enrolled) return { ...emptyPlan(enrollmentId), pushed: false };
  const run = await prepareRun(ctx, await ctx.snapshot(options.fresh === true));
  const device = deviceContextOf(run, enrollment, user);
  const records = await ctx.deps.store.listDeviceProfiles(enrollmentId);
  const work = planWork(ctx, run, device, desiredFor(run, user), records);
  if (options.supervisedNow === true) relock(work);
  const execution = createExecution(ctx);
  await execution.add(work);
  const { touched } = await execution.finish();
  return { ...work.plan, pushed: touched > 0 };
}
