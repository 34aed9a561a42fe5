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
import type { PlannedAction } from './types.js';
import { targetKey } from './target.js';
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
  /** Decides the commands and records of one device's plan (and writes `extra` records with them). */
  add(work: DeviceWork, extra?: readonly DeviceProfileRecord[]): Promise<void>;
  /** Queues every command, writes every record, pushes every device touched, once. */
  finish(): Promise<ExecutionResult>;
}

type InstallAction = Extract<PlannedAction, { action: 'install' }>;
type RemoveAction = Extract<PlannedAction, { action: 'remove' }>;
type JudgedAction = Extract<PlannedAction, { action: 'skip' | 'block' }>;

/** Creates an execution; nothing is queued or written before `finish`. */
export function createExecution(ctx: DeliveryContext): Execution {
  const { deps } = ctx;
  const now = deps.clock();
  const installs = new Map<string, Fanout>();
  const removes = new Map<string, Fanout>();
  const bodies = new Map<string, string>();
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

  /** The hash of the body `action` sends to `work`'s device, building and signing it once. */
  async function bodyOf(work: DeviceWork, action: InstallAction, device: string) {
    const vkey = `${action.profileId}@${action.version}`;
    let v = versions.get(vkey);
    if (!v) versions.set(vkey, (v = await ctx.version(action.profileId, action.version)));
    const assignment: Pick<PolicyAssignmentRecord, 'removal' | 'removalPassword' | 'policyId'> =
      work.desired.get(action.identifier)?.assignment ?? { removal: 'always', policyId: '' };
    const shared = v.variables.length === 0;
    const key = `${v.profileId}@${v.version}|${assignment.policyId}|${assignment.removal}|${device}`;
    const known = shared ? bodies.get(key) : undefined;
    if (known !== undefined) return { hash: known, payloadUuid: v.payloadUuid };
    let content = v.content;
    if (!shared)
      content = substituteVariables(content, resolveVariables(v.variables, work.device).values);
    const sent = applyRemovalControl(content, assignment, work.device.target).content;
    const xml = encodePlist(sent, { format: 'xml' });
    const hash = createHash('sha256').update(xml).digest('hex');
    if (!installs.has(hash)) {
      const command = { RequestType: 'InstallProfile', Payload: ctx.sign(xml) };
      installs.set(hash, { command, uuids: [], ids: [] });
    }
    if (shared) bodies.set(key, hash);
    return { hash, payloadUuid: v.payloadUuid };
  }

  async function install(work: DeviceWork, action: InstallAction, device: string) {
    const { hash, payloadUuid } = await bodyOf(work, action, device);
    const enrollmentId = work.device.enrollment.id;
    records.push({
      enrollmentId,
      identifier: action.identifier,
      profileId: action.profileId,
      version: action.version,
      payloadUuid,
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

  return {
    async add(work, extra = []) {
      records.push(...extra);
      let device: string | undefined;
      for (const action of work.plan.actions) {
        if (action.action === 'install')
          await install(work, action, (device ??= targetKey(work.device.target)));
        else if (action.action === 'remove') await remove(work, action);
        else if (action.action === 'skip' || action.action === 'block') judged(work, action);
      }
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
