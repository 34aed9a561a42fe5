/**
 * Installing and removing one profile on one device at someone's request: an Optional profile
 * by an administrator or its user, an Interactive one by its user only where the device's group
 * allows it (A13); a removal only of what Orchard installed (M6). Compatibility (M7) and
 * variables (S3) apply as to every delivery: an incompatible or unresolved profile is recorded
 * `skipped` or `blocked` and that record is the answer (200, nothing queued).
 */
import { ManagementError } from '../../errors/management.js';
import type { DeviceProfileRecord, EnrollmentRecord, UserRecord } from '../../storage/ports.js';
import { createExecution, SENT_STATES } from './batch.js';
import { installOrSkip } from './plan.js';
import type { DeliveryContext } from './service-context.js';
import { emptyPlan, ownerOf } from './service-changes.js';
import { deviceContextOf, desiredFor, prepareRun, unresolvedOf } from './service-plan.js';
import type { DesiredProfile, DeviceContext, PlannedAction } from './types.js';

async function enrolledDevice(
  ctx: DeliveryContext,
  enrollmentId: string,
): Promise<EnrollmentRecord> {
  const enrollment = await ctx.requireEnrollment(enrollmentId);
  if (!enrollment.enrolled)
    throw new ManagementError(
      'ERR_DEVICE_NOT_ENROLLED',
      `enrollment ${enrollmentId} is not enrolled`,
    );
  return enrollment;
}

function notOffered(profileId: string, enrollmentId: string, why: string): ManagementError {
  return new ManagementError(
    'ERR_PROFILE_NOT_OFFERED',
    `profile ${profileId} is not offered to enrollment ${enrollmentId}: ${why}`,
  );
}

/** The desired profile an install may name, checked against the channel and A13. */
async function offered(
  ctx: DeliveryContext,
  user: UserRecord,
  desired: readonly DesiredProfile[],
  ids: { enrollmentId: string; profileId: string },
  channel: 'admin' | 'user',
): Promise<DesiredProfile> {
  const d = desired.find((x) => x.profile.id === ids.profileId);
  if (!d)
    throw notOffered(ids.profileId, ids.enrollmentId, 'its effective policy does not assign it');
  const type = d.assignment.assignmentType;
  if (type === 'auto')
    throw notOffered(ids.profileId, ids.enrollmentId, 'it is Auto, delivered by the policy');
  if (type === 'interactive' && channel === 'admin')
    throw new ManagementError(
      'ERR_PROFILE_INTERACTIVE',
      `profile ${ids.profileId} is Interactive: only its user installs it, from the portal`,
    );
  if (type === 'interactive') {
    const page = await ctx.deps.groups.effectiveSettings(user.groupId, 'profile-options');
    if (page.values.interactiveEnabled !== true)
      throw new ManagementError(
        'ERR_INTERACTIVE_DISABLED',
        `Interactive profiles are not enabled at the device's group ${user.groupId}`,
        { group: page.sourceGroupId },
      );
  }
  return d;
}

/** Install, skip or block `d`'s latest version on `device`, as the planner would decide it. */
function actionFor(
  ctx: DeliveryContext,
  content: Awaited<ReturnType<DeliveryContext['version']>>,
  device: DeviceContext,
  d: DesiredProfile,
  channel: 'admin' | 'user',
): PlannedAction {
  const { latestVersion } = d.profile;
  const verdict = ctx.judge.judge(d.profile, latestVersion, content.content, device.target);
  return installOrSkip(d, verdict, () => unresolvedOf(content, device), { channel, why: 'added' });
}

/** See {@link DeliveryService.install}. */
export async function installOne(
  ctx: DeliveryContext,
  enrollmentId: string,
  profileId: string,
  channel: 'admin' | 'user',
): Promise<DeviceProfileRecord> {
  const enrollment = await enrolledDevice(ctx, enrollmentId);
  const user = await ownerOf(ctx, enrollmentId);
  if (!user) throw notOffered(profileId, enrollmentId, 'nobody owns the enrollment');
  const run = await prepareRun(ctx, await ctx.snapshot(true));
  const d = await offered(ctx, user, desiredFor(run, user), { enrollmentId, profileId }, channel);
  const device = deviceContextOf(run, enrollment, user);
  const content = await ctx.version(d.profile.id, d.profile.latestVersion);
  const action = actionFor(ctx, content, device, d, channel);
  const now = ctx.deps.clock();
  if (action.action === 'skip' || action.action === 'block') {
    const record: DeviceProfileRecord = {
      ...{ enrollmentId, identifier: action.identifier, profileId, version: action.version },
      ...{ state: action.action === 'skip' ? 'skipped' : 'blocked', reason: action.reason },
      ...{ channel, updatedAt: now },
    };
    await ctx.deps.store.putDeviceProfiles([record]);
    return record;
  }
  const records = await ctx.deps.store.listDeviceProfiles(enrollmentId);
  const plan = { ...emptyPlan(enrollmentId), added: [action.identifier], actions: [action] };
  const execution = createExecution(ctx);
  await execution.add({
    ...{ device, plan },
    records: new Map(records.map((r) => [r.identifier, r])),
    desired: new Map([[d.profile.identifier, d]]),
  });
  const { records: written } = await execution.finish();
  return written[0] as DeviceProfileRecord;
}

/** See {@link DeliveryService.remove}. */
export async function removeOne(
  ctx: DeliveryContext,
  enrollmentId: string,
  identifier: string,
): Promise<DeviceProfileRecord> {
  const enrollment = await ctx.requireEnrollment(enrollmentId);
  const record = await ctx.deps.store.findDeviceProfile(enrollmentId, identifier);
  if (!record || !SENT_STATES.has(record.state))
    throw new ManagementError(
      'ERR_NOT_INSTALLED_BY_ORCHARD',
      `profile ${identifier} on enrollment ${enrollmentId} was not installed by Orchard`,
    );
  if (!enrollment.enrolled)
    throw new ManagementError(
      'ERR_DEVICE_NOT_ENROLLED',
      `enrollment ${enrollmentId} is not enrolled`,
    );
  const action: PlannedAction = { action: 'remove', identifier, profileId: record.profileId };
  const plan = { ...emptyPlan(enrollmentId), removed: [identifier], actions: [action] };
  const run = await prepareRun(ctx, await ctx.snapshot(true));
  const execution = createExecution(ctx);
  await execution.add({
    device: deviceContextOf(run, enrollment, await ownerOf(ctx, enrollmentId)),
    plan,
    records: new Map([[identifier, record]]),
    desired: new Map(),
  });
  const { records: written } = await execution.finish();
  return written[0] as DeviceProfileRecord;
}
