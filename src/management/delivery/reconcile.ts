/**
 * Reconciliation: a ProfileList query (on demand, and by timer for devices not reconciled within
 * the interval) compared with the records when it is answered. A missing Auto profile is queued
 * again; an Optional or Interactive one (or one no longer assigned) the user removed stays
 * removed (`removed on the device`); a pending one the device shows with our PayloadUUID is
 * installed. Profiles on the device without a record are someone else's and left alone (M6).
 */
import { ManagementError } from '../../errors/management.js';
import type { PlistValue } from '../../protocol/plist.js';
import { isPlistDict } from '../../profile/sign.js';
import type { CommandResultEvent } from '../../service/events.js';
import type { DeviceProfileRecord, ReconcileRecord } from '../../storage/ports.js';
import { reportOf } from './acks.js';
import { createExecution } from './batch.js';
import { REMOVED_ON_DEVICE } from './plan.js';
import type { DeliveryContext } from './service-context.js';
import { ownerOf } from './service-changes.js';
import {
  desiredFor,
  deviceContextOf,
  forEachOwnedPage,
  planWork,
  prepareRun,
} from './service-plan.js';
import type { DevicePlan } from './types.js';

/** Queues a ProfileList (without a push) and records it as the reconciliation awaited. */
export async function queueProfileList(
  ctx: DeliveryContext,
  enrollmentId: string,
): Promise<string> {
  const uuid = ctx.newUuid();
  await ctx.deps.commands.enqueue(
    [enrollmentId],
    { RequestType: 'ProfileList' },
    {
      push: false,
      uuid,
    },
  );
  const old = await ctx.deps.store.findReconcile(enrollmentId);
  await ctx.deps.store.putReconcile({
    enrollmentId,
    commandUuid: uuid,
    queuedAt: ctx.deps.clock(),
    ...(old?.reconciledAt ? { reconciledAt: old.reconciledAt } : {}),
  });
  return uuid;
}

/** Queues a ProfileList for one enrolled device and pushes it. */
export async function reconcileNow(
  ctx: DeliveryContext,
  enrollmentId: string,
): Promise<{ commandUuid: string }> {
  const enrollment = await ctx.requireEnrollment(enrollmentId);
  if (!enrollment.enrolled)
    throw new ManagementError(
      'ERR_DEVICE_NOT_ENROLLED',
      `enrollment ${enrollmentId} is not enrolled`,
    );
  const commandUuid = await queueProfileList(ctx, enrollmentId);
  await ctx.deps.commands.push([enrollmentId]);
  return { commandUuid };
}

/**
 * Queues ProfileList for up to `limit` enrolled owned devices not reconciled (nor queued) since
 * `now - interval`, then one push; resolves how many were queued.
 */
export async function reconcileDue(
  ctx: DeliveryContext,
  now: Date,
  limit: number,
): Promise<number> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new TypeError('limit must be a positive integer');
  const before = new Date(now.getTime() - ctx.reconcileIntervalMs);
  const queued: string[] = [];
  await forEachOwnedPage(ctx, {}, async (page) => {
    if (queued.length >= limit) return;
    const ids = page.map((o) => o.enrollmentId);
    const due = await ctx.deps.store.listReconcileDue(ids, before, ids.length);
    if (due.length === 0) return;
    const enrolled = await ctx.deps.enrollments.findEnrollments(due);
    for (const e of enrolled) {
      if (queued.length >= limit) break;
      if (!e.enrolled) continue;
      await queueProfileList(ctx, e.id);
      queued.push(e.id);
    }
  });
  if (queued.length > 0) await ctx.deps.commands.push(queued);
  return queued.length;
}

/** Identifiers a ProfileList answer shows, with their PayloadUUIDs. */
export function profilesOnDevice(
  list: PlistValue | undefined,
): Map<string, { payloadUuid: string }> {
  const out = new Map<string, { payloadUuid: string }>();
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (!isPlistDict(item) || typeof item.PayloadIdentifier !== 'string') continue;
    const uuid = typeof item.PayloadUUID === 'string' ? item.PayloadUUID : '';
    out.set(item.PayloadIdentifier, { payloadUuid: uuid });
  }
  return out;
}

/** Record changes a ProfileList shows by itself: installed (our PayloadUUID), removed on the device. */
function marks(
  records: readonly DeviceProfileRecord[],
  onDevice: ReadonlyMap<string, { payloadUuid: string }>,
  plan: DevicePlan,
  now: Date,
): DeviceProfileRecord[] {
  const acted = new Set(
    plan.actions.filter((a) => a.action === 'install').map((a) => a.identifier),
  );
  const out: DeviceProfileRecord[] = [];
  for (const r of records) {
    if ((r.state !== 'installed' && r.state !== 'pending') || acted.has(r.identifier)) continue;
    const shown = onDevice.get(r.identifier);
    const { commandUuid: _c, reason: _r, ...rest } = r;
    if (shown && r.state === 'pending' && shown.payloadUuid === r.payloadUuid)
      out.push({ ...rest, state: 'installed', installedAt: now, updatedAt: now });
    else if (!shown)
      out.push({ ...rest, state: 'removed', reason: REMOVED_ON_DEVICE, updatedAt: now });
  }
  return out;
}

/** Compares a ProfileList answer with the device's records and carries the result out. */
export async function profileListAnswered(
  ctx: DeliveryContext,
  reconcile: ReconcileRecord,
  event: CommandResultEvent,
): Promise<void> {
  if (event.status === 'NotNow') return;
  const now = ctx.deps.clock();
  const done: ReconcileRecord = {
    enrollmentId: reconcile.enrollmentId,
    ...(reconcile.queuedAt ? { queuedAt: reconcile.queuedAt } : {}),
    ...(reconcile.reconciledAt ? { reconciledAt: reconcile.reconciledAt } : {}),
  };
  const report = event.status === 'Acknowledged' ? await reportOf(ctx, event) : undefined;
  if (!report) {
    ctx.deps.logger.warn(
      { enrollmentId: event.enrollmentId, status: event.status },
      'ProfileList not answered',
    );
    await ctx.deps.store.putReconcile(done);
    return;
  }
  const onDevice = profilesOnDevice(report.ProfileList);
  const enrollment = await ctx.requireEnrollment(event.enrollmentId);
  const user = await ownerOf(ctx, event.enrollmentId);
  const run = await prepareRun(ctx, await ctx.snapshot());
  const device = deviceContextOf(run, enrollment, user);
  const records = await ctx.deps.store.listDeviceProfiles(event.enrollmentId);
  const work = planWork(ctx, run, device, user ? desiredFor(run, user) : [], records, onDevice);
  // A removal of something already gone needs no command: it is simply removed.
  work.plan.actions = work.plan.actions.filter(
    (a) => a.action !== 'remove' || onDevice.has(a.identifier),
  );
  const execution = createExecution(ctx);
  const extra = marks(records, onDevice, work.plan, now);
  if (enrollment.enrolled) await execution.add(work, extra);
  else await execution.add({ ...work, plan: { ...work.plan, actions: [] } }, extra);
  await execution.finish();
  await ctx.deps.store.putReconcile({ ...done, reconciledAt: now });
}
