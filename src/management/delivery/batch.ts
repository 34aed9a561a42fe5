/**
 * Carrying plans out in bulk (rules M6, M7, S3, S8): each distinct profile body is built and
 * signed once and queued as ONE command for every device it goes to (in chunks past the
 * per-command limit), each removed identifier as one RemoveProfile, the device records written
 * in batches, then one push for every device touched.
 */
import { createHash } from 'node:crypto';
import { encodePlist, type PlistDict } from '../../protocol/plist.js';
import type { DeviceProfileRecord, PolicyAssignmentRecord } from '../../storage/ports.js';
import { applyRemovalControl } from './removal-control.js';
import type { DeliveryContext, VersionContent } from './service-context.js';
import type { DeviceWork } from './service-plan.js';
import type { DeviceTarget, PlannedAction } from './types.js';
import { resolveVariables, substituteVariables } from './variables.js';

/** Records written per `putDeviceProfiles` call. */
export const RECORD_BATCH = 5000;

/** Record states that say Orchard sent the profile (and so may remove it, M6). */
export const SENT_STATES = new Set(['installed', 'pending', 'failed']);

/** One command queued for many devices, in chunks of at most `maxTargetsPerCommand`. */
interface Fanout {
  command: { RequestType: string } & PlistDict;
  /** One uuid per chunk. */
  uuids: string[];
  ids: string[];
}

/** What an execution did. */
export interface ExecutionResult {
  commandsQueued: number;
  /** Every record written, in the order decided. */
  records: DeviceProfileRecord[];
  /** Devices a command was queued for (and pushed). */
  touched: number;
}

/** Collects the actions of many devices, then queues, records and pushes them at once. */
export interface Execution {
  /**
   * Decides the commands and records of one device's plan (and writes `extra` records with
   * them). `undefined` when done at once (every install of a version already read, nothing to
   * remove: most devices of a fleet), else a promise to await before the next device.
   */
  add(work: DeviceWork, extra?: readonly DeviceProfileRecord[]): Promise<void> | undefined;
  /** Queues every command, writes every record, pushes every device touched, once. */
  finish(): Promise<ExecutionResult>;
}

/** What a body depends on from its assignment. */
type BodyAssignment = Pick<PolicyAssignmentRecord, 'removal' | 'removalPassword' | 'policyId'>;

/** Installs outside any assignment (an admin's install of a profile no longer assigned). */
const NO_ASSIGNMENT: BodyAssignment = { removal: 'always', policyId: '' };

type InstallAction = Extract<PlannedAction, { action: 'install' }>;
type RemoveAction = Extract<PlannedAction, { action: 'remove' }>;
type JudgedAction = Extract<PlannedAction, { action: 'skip' | 'block' }>;

/** Creates an execution; nothing is queued or written before `finish`. */
export function createExecution(ctx: DeliveryContext): Execution {
  const { deps } = ctx;
  const now = deps.clock();
  const installs = new Map<string, Fanout>();
  const removes = new Map<string, Fanout>();
  // Body hashes of shared (variable-free) versions: assignment -> version -> device target.
  // Targets are shared by devices alike (service-plan.ts), so a fleet hits this without any
  // per-device key building.
  const bodies = new WeakMap<object, Map<VersionContent, Map<DeviceTarget, string>>>();
  // Read without awaiting once known: most devices get the same few versions.
  const versions = new Map<string, VersionContent>();
  const records: DeviceProfileRecord[] = [];
  const touched = new Set<string>();

  const target = (fanout: Fanout, id: string): string => {
    if (fanout.ids.length % ctx.maxTargetsPerCommand === 0) fanout.uuids.push(ctx.newUuid());
    fanout.ids.push(id);
    touched.add(id);
    return fanout.uuids[fanout.uuids.length - 1] as string;
  };

  /** The body hash cache of one (assignment, shared version), created on first use. */
  function bodiesOf(assignment: object, v: VersionContent): Map<DeviceTarget, string> {
    let byVersion = bodies.get(assignment);
    if (!byVersion)
      bodies.set(assignment, (byVersion = new Map<VersionContent, Map<DeviceTarget, string>>()));
    let byTarget = byVersion.get(v);
    if (!byTarget) byVersion.set(v, (byTarget = new Map<DeviceTarget, string>()));
    return byTarget;
  }

  /** The hash of the body `action` sends to `work`'s device, building and signing it once. */
  function buildBody(work: DeviceWork, v: VersionContent, assignment: BodyAssignment): string {
    let content = v.content;
    if (v.variables.length > 0)
      content = substituteVariables(content, resolveVariables(v.variables, work.device).values);
    const sent = applyRemovalControl(content, assignment, work.device.target).content;
    const xml = encodePlist(sent, { format: 'xml' });
    const hash = createHash('sha256').update(xml).digest('hex');
    if (!installs.has(hash)) {
      const command = { RequestType: 'InstallProfile', Payload: ctx.sign(xml) };
      installs.set(hash, { command, uuids: [], ids: [] });
    }
    return hash;
  }

  /** The body hash of a version already read; cached per target when it has no variables. */
  function bodyOf(work: DeviceWork, action: InstallAction, v: VersionContent): string {
    const assignment = work.desired.get(action.identifier)?.assignment ?? NO_ASSIGNMENT;
    if (v.variables.length > 0) return buildBody(work, v, assignment);
    const cache = bodiesOf(assignment, v);
    const target = work.device.target;
    let hash = cache.get(target);
    if (hash === undefined) cache.set(target, (hash = buildBody(work, v, assignment)));
    return hash;
  }

  /** The version an install sends, read once per execution. */
  async function versionOf(action: InstallAction): Promise<VersionContent> {
    const vkey = `${action.profileId}@${action.version}`;
    let v = versions.get(vkey);
    if (!v) versions.set(vkey, (v = await ctx.version(action.profileId, action.version)));
    return v;
  }

  function install(work: DeviceWork, action: InstallAction, v: VersionContent) {
    const hash = bodyOf(work, action, v);
    const enrollmentId = work.device.enrollment.id;
    records.push({
      enrollmentId,
      identifier: action.identifier,
      profileId: action.profileId,
      version: action.version,
      payloadUuid: v.payloadUuid,
      state: 'pending',
      channel: action.channel,
      commandUuid: target(installs.get(hash) as Fanout, enrollmentId),
      updatedAt: now,
    });
  }

  /** Whether `uuid` is still queued (never sent) for the device: read from its own queue. */
  async function stillQueued(enrollmentId: string, uuid: string): Promise<boolean> {
    const list = deps.commands.listCommands?.bind(deps.commands);
    if (!list) {
      const found = await deps.commands.findCommand(uuid);
      return (
        found?.targets.some((t) => t.enrollmentId === enrollmentId && t.status === 'queued') ??
        false
      );
    }
    let cursor: string | undefined;
    do {
      const page = await list(enrollmentId, {
        limit: 1000,
        status: 'queued',
        ...(cursor === undefined ? {} : { cursor }),
      });
      if (page.items.some((c) => c.uuid === uuid)) return true;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return false;
  }

  /** Cancels a pending install; true when the device never received it (no removal needed). */
  async function cancelled(record: DeviceProfileRecord): Promise<boolean> {
    if (record.state !== 'pending' || record.commandUuid === undefined) return false;
    const queued = await stillQueued(record.enrollmentId, record.commandUuid);
    const done = await deps.commands.cancel(record.enrollmentId, record.commandUuid);
    return done && queued;
  }

  async function remove(work: DeviceWork, action: RemoveAction) {
    const record = work.records.get(action.identifier);
    if (!record || !SENT_STATES.has(record.state)) return;
    const { commandUuid: _old, installedAt: _at, reason: _reason, ...rest } = record;
    if (await cancelled(record)) {
      records.push({
        ...rest,
        state: 'removed',
        reason: 'canceled before it was sent',
        updatedAt: now,
      });
      return;
    }
    let fanout = removes.get(action.identifier);
    if (!fanout) {
      fanout = {
        command: { RequestType: 'RemoveProfile', Identifier: action.identifier },
        uuids: [],
        ids: [],
      };
      removes.set(action.identifier, fanout);
    }
    const commandUuid = target(fanout, record.enrollmentId);
    records.push({ ...rest, state: 'removing', commandUuid, updatedAt: now });
  }

  function judged(work: DeviceWork, action: JudgedAction) {
    const state = action.action === 'skip' ? 'skipped' : 'blocked';
    const old = work.records.get(action.identifier);
    // Never overwrite what Orchard sent: the device still has (or is getting) an earlier version.
    if (old && (SENT_STATES.has(old.state) || old.state === 'removing')) return;
    if (old?.state === state && old.reason === action.reason && old.version === action.version)
      return;
    records.push({
      ...{ enrollmentId: work.device.enrollment.id, identifier: action.identifier },
      ...{ profileId: action.profileId, version: action.version, state, reason: action.reason },
      channel: old?.channel ?? 'policy',
      updatedAt: now,
    });
  }

  async function enqueueAll(fanouts: Iterable<Fanout>): Promise<number> {
    let queued = 0;
    for (const f of fanouts)
      for (const [i, uuid] of f.uuids.entries()) {
        const ids = f.ids.slice(i * ctx.maxTargetsPerCommand, (i + 1) * ctx.maxTargetsPerCommand);
        await deps.commands.enqueue(ids, f.command, { push: false, uuid });
        queued++;
      }
    return queued;
  }

  /** The actions of `work` from `from` on, awaiting what needs reading. */
  async function addRest(work: DeviceWork, from: number): Promise<void> {
    const actions = work.plan.actions;
    for (let i = from; i < actions.length; i++) {
      const action = actions[i] as PlannedAction;
      if (action.action === 'install') install(work, action, await versionOf(action));
      else if (action.action === 'remove') await remove(work, action);
      else if (action.action === 'skip' || action.action === 'block') judged(work, action);
    }
  }

  return {
    add(work, extra = []) {
      for (const r of extra) records.push(r);
      const actions = work.plan.actions;
      for (let i = 0; i < actions.length; i++) {
        const action = actions[i] as PlannedAction;
        if (action.action === 'install') {
          // Most devices get a version already read: no promise, no await for them.
          const v = versions.get(`${action.profileId}@${action.version}`);
          if (v === undefined) return addRest(work, i);
          install(work, action, v);
        } else if (action.action === 'remove') return addRest(work, i);
        else if (action.action === 'skip' || action.action === 'block') judged(work, action);
      }
      return undefined;
    },
    async finish() {
      const commandsQueued =
        (await enqueueAll(installs.values())) + (await enqueueAll(removes.values()));
      for (let i = 0; i < records.length; i += RECORD_BATCH)
        await deps.store.putDeviceProfiles(records.slice(i, i + RECORD_BATCH));
      if (touched.size > 0) await deps.commands.push([...touched]);
      return { commandsQueued, records, touched: touched.size };
    },
  };
}
