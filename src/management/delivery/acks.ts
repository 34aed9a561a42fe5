/**
 * What devices answer (rule M6): an acknowledged InstallProfile is Orchard's provenance
 * (`installed`), an acknowledged RemoveProfile makes the record `removed`, an error is kept in
 * words (`failed`); NotNow changes nothing. DeviceInformation answers merge the facts the
 * planner judges by, and re-deliver when platform, OS version or supervision changed.
 */
import { decodePlist, type PlistDict } from '../../protocol/plist.js';
import { isPlistDict } from '../../profile/sign.js';
import type { CommandResultEvent } from '../../service/events.js';
import type { DeviceProfileRecord } from '../../storage/ports.js';
import type { DeliveryContext } from './service-context.js';
import { deviceTargetOf } from './target.js';
import type { DeviceTarget } from './types.js';

/** CommandUUID prefix of the DeviceInformation queries Orchard queues at enrollment. */
export const FACTS_PREFIX = 'facts-';

/** What Orchard asks a device at enrollment: the facts the compatibility filter needs. */
export const FACT_QUERIES = [
  'IsSupervised',
  'OSVersion',
  'ProductName',
  'Model',
  'SerialNumber',
  'BuildVersion',
  'UDID',
] as const;

/** The facts merged from a DeviceInformation answer: all that is asked but the UDID. */
const MERGED_FACTS: readonly string[] = FACT_QUERIES.filter((key) => key !== 'UDID');

/**
 * The raw report of `uuid` by `enrollmentId`. An error is looked up among the device's own
 * commands of that status (a bulk InstallProfile may have 100,000 targets: reading them all for
 * each device's error would not scale); other answers come from the command (one target).
 */
async function resultOf(
  ctx: DeliveryContext,
  enrollmentId: string,
  uuid: string,
  status: CommandResultEvent['status'],
): Promise<Uint8Array | undefined> {
  const list = ctx.deps.commands.listCommands?.bind(ctx.deps.commands);
  if (list && (status === 'Error' || status === 'CommandFormatError')) {
    let cursor: string | undefined;
    do {
      const page = await list(enrollmentId, {
        limit: 100,
        status,
        ...(cursor === undefined ? {} : { cursor }),
      });
      const hit = page.items.find((c) => c.uuid === uuid);
      if (hit) return hit.result;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return undefined;
  }
  const command = await ctx.deps.commands.findCommand(uuid);
  return command?.targets.find((t) => t.enrollmentId === enrollmentId)?.result;
}

/** The device's report plist for the event's command, or `undefined` when none is stored. */
export async function reportOf(
  ctx: DeliveryContext,
  event: Pick<CommandResultEvent, 'enrollmentId' | 'commandUuid' | 'status'>,
): Promise<PlistDict | undefined> {
  const result = await resultOf(ctx, event.enrollmentId, event.commandUuid, event.status);
  if (!result || result.length === 0) return undefined;
  try {
    const value = decodePlist(result);
    return isPlistDict(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The device's error in words: the first ErrorChain description, else the status. */
export function errorText(report: PlistDict | undefined, status: string): string {
  const chain = report?.ErrorChain;
  if (Array.isArray(chain))
    for (const item of chain) {
      if (!isPlistDict(item)) continue;
      for (const key of ['LocalizedDescription', 'USEnglishDescription'])
        if (typeof item[key] === 'string' && item[key] !== '') return item[key];
    }
  return `the device answered ${status}`;
}

/** Applies an InstallProfile or RemoveProfile answer to its record. */
export async function profileAnswered(
  ctx: DeliveryContext,
  record: DeviceProfileRecord,
  event: CommandResultEvent,
): Promise<void> {
  if (event.status === 'NotNow') return;
  if (record.state !== 'pending' && record.state !== 'removing') return;
  const now = ctx.deps.clock();
  const { commandUuid: _uuid, reason: _reason, ...rest } = record;
  let next: DeviceProfileRecord;
  if (event.status === 'Acknowledged') {
    next =
      record.state === 'pending'
        ? { ...rest, state: 'installed', installedAt: now, updatedAt: now }
        : { ...rest, state: 'removed', reason: 'removed by Orchard', updatedAt: now };
  } else {
    const words = errorText(await reportOf(ctx, event), event.status);
    const reason = record.state === 'pending' ? words : `removal failed: ${words}`;
    next = { ...rest, state: 'failed', reason, updatedAt: now };
  }
  await ctx.deps.store.putDeviceProfiles([next]);
}

function changed(a: DeviceTarget, b: DeviceTarget): boolean {
  return a.platform !== b.platform || a.osVersion !== b.osVersion || a.supervised !== b.supervised;
}

/** What a DeviceInformation answer changed: `changed` the device is planned again. */
export interface FactsChange {
  /** Platform, OS version or supervision changed. */
  changed: boolean;
  /** It is now known to be supervised, and was not before. */
  supervisedNow: boolean;
}

const NO_CHANGE: FactsChange = { changed: false, supervisedNow: false };

/** Merges a DeviceInformation answer's facts; says whether the device is to be planned again. */
export async function factsAnswered(
  ctx: DeliveryContext,
  event: CommandResultEvent,
): Promise<FactsChange> {
  if (event.status !== 'Acknowledged') return NO_CHANGE;
  const report = await reportOf(ctx, event);
  const responses = report?.QueryResponses;
  if (!isPlistDict(responses)) return NO_CHANGE;
  const facts: Record<string, unknown> = {};
  for (const key of MERGED_FACTS) {
    const value = responses[key];
    if (typeof value === 'string' || typeof value === 'boolean') facts[key] = value;
  }
  if (Object.keys(facts).length === 0) return NO_CHANGE;
  const found = await ctx.deps.enrollments.findEnrollment(event.enrollmentId);
  if (!found || !(await ctx.deps.enrollments.mergeFacts(event.enrollmentId, facts)))
    return NO_CHANGE;
  const before = deviceTargetOf(found);
  const after = deviceTargetOf({ ...found, facts: { ...found.facts, ...facts } });
  return {
    changed: changed(before, after),
    supervisedNow: after.supervised === true && before.supervised !== true,
  };
}

/** Queues the DeviceInformation query of a newly enrolled device (without a push). */
export async function queueFactsQuery(ctx: DeliveryContext, enrollmentId: string): Promise<string> {
  const uuid = `${FACTS_PREFIX}${ctx.newUuid()}`;
  await ctx.deps.commands.enqueue(
    [enrollmentId],
    { RequestType: 'DeviceInformation', Queries: [...FACT_QUERIES] },
    { push: false, uuid },
  );
  return uuid;
}
