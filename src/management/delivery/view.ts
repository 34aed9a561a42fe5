/**
 * Seeing delivery: a device's profiles by what became of them, and the decision trace of one
 * profile on one device (rule B1), built by the planner's `buildExplainTrace` from the device,
 * its group chain with the settings that decide (`profile-options`, `self-service`), its user,
 * effective policy, assignment, compatibility verdict, variables, removal control and record.
 */
import { ManagementError } from '../../errors/management.js';
import type { DeviceProfileRecord, LibraryProfileRecord, UserRecord } from '../../storage/ports.js';
import { buildExplainTrace } from './explain.js';
import { applyRemovalControl } from './removal-control.js';
import type { DeliveryContext } from './service-context.js';
import { ownerOf } from './service-changes.js';
import { deviceContextOf, prepareRun, type PlanRun } from './service-plan.js';
import { desiredProfiles, effectivePolicy } from './snapshot.js';
import type {
  DesiredProfile,
  DeviceProfileView,
  DeviceProfilesView,
  ExplainGroup,
  ExplainTrace,
} from './types.js';
import { resolveVariables } from './variables.js';

/** The settings pages an explain trace shows for each group of the chain. */
export const EXPLAIN_PAGES = ['profile-options', 'self-service'] as const;

function viewOf(
  identifier: string,
  d: DesiredProfile | undefined,
  r: DeviceProfileRecord | undefined,
  profile: LibraryProfileRecord | undefined,
): DeviceProfileView {
  return {
    identifier,
    profileId: d?.profile.id ?? r?.profileId ?? profile?.id ?? '',
    name: d?.profile.name ?? profile?.name ?? identifier,
    ...(d ? { assignmentType: d.assignment.assignmentType, removal: d.assignment.removal } : {}),
    desired: d !== undefined,
    ...(r ? { state: r.state, version: r.version, channel: r.channel } : {}),
    ...(r?.reason === undefined ? {} : { reason: r.reason }),
    latestVersion: d?.profile.latestVersion ?? profile?.latestVersion ?? r?.version ?? 0,
    ...(r?.commandUuid === undefined ? {} : { commandUuid: r.commandUuid }),
    ...(r?.installedAt === undefined ? {} : { installedAt: r.installedAt.toISOString() }),
    ...(r ? { updatedAt: r.updatedAt.toISOString() } : {}),
  };
}

async function interactiveEnabled(ctx: DeliveryContext, user: UserRecord | undefined) {
  if (!user) return false;
  const page = await ctx.deps.groups.effectiveSettings(user.groupId, 'profile-options');
  return page.values.interactiveEnabled === true;
}

/** A device's profiles by state; 404 `ERR_ENROLLMENT_NOT_FOUND`. */
export async function deviceProfiles(
  ctx: DeliveryContext,
  enrollmentId: string,
): Promise<DeviceProfilesView> {
  await ctx.requireEnrollment(enrollmentId);
  const user = await ownerOf(ctx, enrollmentId);
  const snapshot = await ctx.snapshot(true);
  const desired = user ? desiredProfiles(snapshot, user) : [];
  const records = await ctx.deps.store.listDeviceProfiles(enrollmentId);
  const byRecord = new Map(records.map((r) => [r.identifier, r]));
  const identifiers = [
    ...new Set([...desired.map((d) => d.profile.identifier), ...byRecord.keys()]),
  ].sort();
  const interactive = await interactiveEnabled(ctx, user);
  const view: DeviceProfilesView = {
    enrollmentId,
    ...(user ? { userId: user.id, groupId: user.groupId } : {}),
    ...{ desired: [], installed: [], pending: [], skipped: [], failed: [], blocked: [] },
    ...{ offered: [], removed: [] },
  };
  if (user) {
    const { policy, source } = effectivePolicy(snapshot, user);
    if (policy) view.policy = { id: policy.id, name: policy.name, source };
  }
  for (const identifier of identifiers) {
    const d = desired.find((x) => x.profile.identifier === identifier);
    const r = byRecord.get(identifier);
    const profile =
      d?.profile ??
      (r
        ? (snapshot.profiles.get(r.profileId) ??
          (await ctx.deps.store.findLibraryProfile(r.profileId)))
        : undefined);
    const v = viewOf(identifier, d, r, profile);
    if (d) view.desired.push(v);
    if (r?.state === 'removing') view.pending.push(v);
    else if (r) view[r.state].push(v);
    const type = d?.assignment.assignmentType;
    const has = r?.state === 'installed' || r?.state === 'pending';
    if (!has && (type === 'optional' || (type === 'interactive' && interactive)))
      view.offered.push(v);
  }
  const reconcile = await ctx.deps.store.findReconcile(enrollmentId);
  if (reconcile?.reconciledAt) view.reconciledAt = reconcile.reconciledAt.toISOString();
  return view;
}

/** The device's group chain, nearest first, with the settings that decide delivery. */
async function explainGroups(
  ctx: DeliveryContext,
  run: PlanRun,
  groupId: string,
): Promise<ExplainGroup[]> {
  const out: ExplainGroup[] = [];
  for (const id of run.snapshot.tree.chain(groupId)) {
    const group = run.snapshot.tree.get(id);
    const settings: ExplainGroup['settings'] = [];
    for (const page of EXPLAIN_PAGES) {
      const e = await ctx.deps.groups.effectiveSettings(id, page);
      settings.push({
        ...{ page, currentSetting: e.currentSetting },
        ...{ sourceGroupId: e.sourceGroupId, values: e.values },
      });
    }
    const policyId = run.snapshot.groupPolicies.get(id);
    out.push({
      ...{ groupId: id, name: group?.name ?? id },
      ...(policyId === undefined ? {} : { policyId }),
      settings,
    });
  }
  return out;
}

async function profileNamed(
  ctx: DeliveryContext,
  identifier: string,
  desired: DesiredProfile | undefined,
  record: DeviceProfileRecord | undefined,
): Promise<LibraryProfileRecord | undefined> {
  if (desired) return desired.profile;
  if (record) return ctx.deps.store.findLibraryProfile(record.profileId);
  return ctx.deps.store.findLibraryProfileByIdentifier(identifier);
}

/**
 * The decision trace of `identifier` on a device; 404 `ERR_ENROLLMENT_NOT_FOUND`, 404
 * `ERR_DEVICE_PROFILE_NOT_FOUND` when no library profile and no record has that identifier.
 */
export async function explain(
  ctx: DeliveryContext,
  enrollmentId: string,
  identifier: string,
): Promise<ExplainTrace> {
  const enrollment = await ctx.requireEnrollment(enrollmentId);
  const user = await ownerOf(ctx, enrollmentId);
  const run = await prepareRun(ctx, await ctx.snapshot(true));
  const device = deviceContextOf(run, enrollment, user);
  const policy = user ? effectivePolicy(run.snapshot, user) : { source: { kind: 'none' as const } };
  const desired = user
    ? desiredProfiles(run.snapshot, user).find((d) => d.profile.identifier === identifier)
    : undefined;
  const record = await ctx.deps.store.findDeviceProfile(enrollmentId, identifier);
  const profile = await profileNamed(ctx, identifier, desired, record);
  if (!profile && !record)
    throw new ManagementError(
      'ERR_DEVICE_PROFILE_NOT_FOUND',
      `no profile ${identifier} for enrollment ${enrollmentId}`,
    );
  const content = profile
    ? await ctx.version(profile.id, profile.latestVersion).catch(() => undefined)
    : undefined;
  const verdict =
    profile && content
      ? ctx.judge.judge(profile, content.version, content.content, device.target)
      : undefined;
  const variables = content ? resolveVariables(content.variables, device).resolutions : [];
  const removalEffect =
    desired && content
      ? applyRemovalControl(content.content, desired.assignment, device.target).effect
      : undefined;
  return buildExplainTrace({
    ...{ device, identifier, policy, variables },
    groups: user ? await explainGroups(ctx, run, user.groupId) : [],
    ...(desired ? { desired } : {}),
    ...(profile ? { profile } : {}),
    ...(verdict ? { verdict } : {}),
    ...(record ? { record } : {}),
    ...(removalEffect === undefined ? {} : { removalEffect }),
  });
}
