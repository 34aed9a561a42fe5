/**
 * The explain trace (rule B1): why one profile is (or is not) on one device, in one decision
 * word and one sentence, with every fact behind it: the device, its group chain and settings,
 * the user and effective policy, the assignment, each compatibility check, the variables, the
 * removal rules (from `canRemove`) and Orchard's record. Pure and JSON-stable for golden files.
 */
import type {
  AssignmentType,
  DeviceProfileRecord,
  LibraryProfileRecord,
} from '../../storage/ports.js';
import { REMOVED_ON_DEVICE, unresolvedReason } from './plan.js';
import { removalControlled, whoMayRemove } from './explain-removal.js';
import type {
  CompatibilityVerdict,
  DesiredProfile,
  DeviceContext,
  EffectivePolicy,
  ExplainDecision,
  ExplainGroup,
  ExplainTrace,
  PolicySource,
  VariableResolution,
} from './types.js';

/** What {@link buildExplainTrace} is told about one (device, profile). */
export interface ExplainInput {
  device: DeviceContext;
  identifier: string;
  /** The device's group and its ancestors, nearest first, with the settings that decide. */
  groups: ExplainGroup[];
  policy: EffectivePolicy;
  /** The assignment of the effective policy for this identifier; absent when not assigned. */
  desired?: DesiredProfile;
  /** The library profile (defaults to `desired.profile`). */
  profile?: LibraryProfileRecord;
  verdict?: CompatibilityVerdict;
  variables: readonly VariableResolution[];
  record?: DeviceProfileRecord;
  /** What the removal control does on this device (from `applyRemovalControl`); derived when absent. */
  removalEffect?: string;
}

const TYPE_WORDS: Readonly<Record<AssignmentType, string>> = {
  auto: 'Auto',
  optional: 'Optional',
  interactive: 'Interactive',
};

type Decided = { decision: ExplainDecision; summary: string };

function notAssigned(input: ExplainInput): Decided {
  const { record, policy, device } = input;
  if (record?.state === 'removed')
    return {
      decision: 'removed',
      summary: `Removed: ${record.reason ?? 'Orchard removed it'}; the effective policy no longer assigns it`,
    };
  const why = !device.user
    ? 'no user owns this enrollment, so it has no policy'
    : policy.policy
      ? `the effective policy "${policy.policy.name}" does not include this profile`
      : 'the user has no effective policy';
  const sent =
    record?.state === 'installed' || record?.state === 'pending' || record?.state === 'failed';
  const tail = sent
    ? '; Orchard sent it, so it is removed'
    : record?.state === 'removing'
      ? '; a RemoveProfile is queued'
      : '';
  return { decision: 'not-assigned', summary: `Not assigned: ${why}${tail}` };
}

function interactiveOff(groups: readonly ExplainGroup[]): boolean {
  const page = groups[0]?.settings.find((s) => s.page === 'profile-options');
  return page?.values.interactiveEnabled === false;
}

function notInstalled(input: ExplainInput, d: DesiredProfile): Decided {
  const type = d.assignment.assignmentType;
  const words = TYPE_WORDS[type];
  const { record } = input;
  const latest = d.profile.latestVersion;
  const has = record && (record.state === 'installed' || record.state === 'pending');
  if (has)
    return {
      decision: 'install',
      summary: `${words}: version ${record.version} is on the device; version ${latest} is queued at the next evaluation`,
    };
  if (type === 'auto')
    return {
      decision: 'install',
      summary:
        'Auto: queued automatically at enrollment and whenever the policy, the user’s group or the device changes',
    };
  if (type === 'optional')
    return {
      decision: 'offered',
      summary: 'Optional: offered in the self-service portal; an administrator may also install it',
    };
  const off = interactiveOff(input.groups)
    ? '; Interactive profiles are turned off for the device’s group, so the portal does not offer it now'
    : '';
  return {
    decision: 'offered',
    summary: `Interactive: installed only when the user starts it in the self-service portal${off}`,
  };
}

function assigned(input: ExplainInput, d: DesiredProfile): Decided {
  const { record, verdict, variables } = input;
  const words = TYPE_WORDS[d.assignment.assignmentType];
  const latest = d.profile.latestVersion;
  if (record?.state === 'installed' && record.version >= latest)
    return {
      decision: 'installed',
      summary: `${words}: installed by Orchard (version ${record.version}, acknowledged by the device)`,
    };
  if (record?.state === 'pending' && record.version >= latest)
    return {
      decision: 'pending',
      summary: `${words}: InstallProfile for version ${record.version} is queued, waiting for the device`,
    };
  if (verdict && !verdict.ok)
    return {
      decision: 'skipped',
      summary: `Skipped: not sent to this device because ${verdict.reason ?? 'it is incompatible'}`,
    };
  const unresolved = variables.filter((v) => !v.resolved).map((v) => v.name);
  if (unresolved.length > 0)
    return {
      decision: 'blocked',
      summary: `Blocked: not sent to this device because of ${unresolvedReason(unresolved)}`,
    };
  if (record?.state === 'failed' && record.version >= latest) {
    const why = record.reason ? ` (${record.reason})` : '';
    return {
      decision: 'failed',
      summary: `${words}: the device refused version ${record.version}${why}; the next version is tried again`,
    };
  }
  if (record?.state === 'removed' && record.reason === REMOVED_ON_DEVICE) {
    const next =
      d.assignment.assignmentType === 'auto'
        ? 'it comes back at the next reconciliation'
        : 'it stays removed until the user installs it again';
    return { decision: 'removed', summary: `${words}: removed on the device by its user; ${next}` };
  }
  return notInstalled(input, d);
}

function decide(input: ExplainInput): Decided {
  return input.desired ? assigned(input, input.desired) : notAssigned(input);
}

/** A plain copy of `value` with object keys sorted at every level (stable JSON). */
function sortedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedJson);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort())
      out[k] = sortedJson((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

function groupsOf(groups: readonly ExplainGroup[]): ExplainGroup[] {
  return groups.map((g) => ({
    groupId: g.groupId,
    name: g.name,
    ...(g.policyId === undefined ? {} : { policyId: g.policyId }),
    settings: g.settings.map((s) => ({
      page: s.page,
      currentSetting: s.currentSetting,
      sourceGroupId: s.sourceGroupId,
      values: sortedJson(s.values) as Record<string, unknown>,
    })),
  }));
}

function sourceOf(source: PolicySource): PolicySource {
  return source.kind === 'group'
    ? { kind: 'group', groupId: source.groupId }
    : { kind: source.kind };
}

function removalOf(input: ExplainInput): ExplainTrace['removal'] {
  const a = input.desired?.assignment;
  if (!a) return null;
  const effect =
    input.removalEffect ??
    removalControlled(a.removal, input.device.target, input.identifier).effect;
  return {
    control: a.removal,
    effect,
    user: whoMayRemove(input.device, a.removal, input.identifier),
  };
}

function recordOf(r: DeviceProfileRecord | undefined): ExplainTrace['record'] {
  if (!r) return null;
  return {
    state: r.state,
    reason: r.reason ?? null,
    version: r.version,
    channel: r.channel,
    updatedAt: r.updatedAt.toISOString(),
  };
}

function deviceOf(device: DeviceContext): ExplainTrace['device'] {
  const t = device.target;
  return {
    type: device.enrollment.type,
    platform: t.platform ?? null,
    osVersion: t.osVersion ?? null,
    supervised: t.supervised ?? null,
    enrollment: t.enrollment,
    unknown: [...t.unknown],
  };
}

/**
 * The decision trace of `input.identifier` on `input.device`: the decision (installed,
 * pending, skipped, blocked, failed, offered, install, removed or not-assigned) with one
 * sentence why, and every fact behind it. Plain JSON (ISO dates, fixed key order).
 */
export function buildExplainTrace(input: ExplainInput): ExplainTrace {
  const { device, desired } = input;
  const profile = input.profile ?? desired?.profile;
  const { decision, summary } = decide(input);
  return {
    enrollmentId: device.enrollment.id,
    identifier: input.identifier,
    decision,
    summary,
    device: deviceOf(device),
    groups: groupsOf(input.groups),
    user: device.user
      ? { id: device.user.id, username: device.user.username, groupId: device.user.groupId }
      : null,
    policy: input.policy.policy
      ? {
          id: input.policy.policy.id,
          name: input.policy.policy.name,
          source: sourceOf(input.policy.source),
        }
      : null,
    assignment: desired
      ? {
          policyId: desired.assignment.policyId,
          assignmentType: desired.assignment.assignmentType,
          removal: desired.assignment.removal,
        }
      : null,
    profile: profile
      ? {
          id: profile.id,
          name: profile.name,
          groupId: profile.groupId,
          latestVersion: profile.latestVersion,
        }
      : null,
    compatibility: (input.verdict?.checks ?? []).map((c) => ({
      check: c.check,
      ok: c.ok,
      detail: c.detail,
    })),
    variables: input.variables.map((v) => ({
      name: v.name,
      resolved: v.resolved,
      source: v.source,
    })),
    removal: removalOf(input),
    record: recordOf(input.record),
  };
}
