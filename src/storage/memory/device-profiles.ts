/**
 * What Orchard sent to and installed on each enrollment, in memory: records by enrollment then
 * identifier, and one reconciliation record per enrollment. Records are replaced, never mutated.
 */
import {
  checkDeviceProfiles,
  checkIds,
  checkLimit,
  checkReconcile,
  decodePairCursor,
  encodePairCursor,
  MAX_OWNED_PAGE,
  reconcileDue,
  unique,
} from '../policies-check.js';
import type { DeviceProfileRecord, DeviceProfileStore, ReconcileRecord } from '../ports.js';
import { checkDate, checkId } from '../support.js';
import {
  adminStep,
  byBytes,
  type AdminState,
  type DeviceProfileRow,
  type ReconcileRow,
} from './admin-state.js';

function record(row: DeviceProfileRow): DeviceProfileRecord {
  const { installedAt, updatedAt, ...rest } = row;
  const r: DeviceProfileRecord = { ...rest, updatedAt: new Date(updatedAt) };
  if (installedAt !== undefined) r.installedAt = new Date(installedAt);
  return r;
}

function row(r: DeviceProfileRecord): DeviceProfileRow {
  const out: DeviceProfileRow = {
    enrollmentId: r.enrollmentId,
    identifier: r.identifier,
    profileId: r.profileId,
    version: r.version,
    state: r.state,
    channel: r.channel,
    updatedAt: r.updatedAt.getTime(),
  };
  if (r.payloadUuid !== undefined) out.payloadUuid = r.payloadUuid;
  if (r.reason !== undefined) out.reason = r.reason;
  if (r.commandUuid !== undefined) out.commandUuid = r.commandUuid;
  if (r.installedAt !== undefined) out.installedAt = r.installedAt.getTime();
  return out;
}

function reconcileRecord(r: ReconcileRow): ReconcileRecord {
  const out: ReconcileRecord = { enrollmentId: r.enrollmentId };
  if (r.commandUuid !== undefined) out.commandUuid = r.commandUuid;
  if (r.queuedAt !== undefined) out.queuedAt = new Date(r.queuedAt);
  if (r.reconciledAt !== undefined) out.reconciledAt = new Date(r.reconciledAt);
  return out;
}

function reconcileRow(r: ReconcileRecord): ReconcileRow {
  const out: ReconcileRow = { enrollmentId: r.enrollmentId };
  if (r.commandUuid !== undefined) out.commandUuid = r.commandUuid;
  if (r.queuedAt !== undefined) out.queuedAt = r.queuedAt.getTime();
  if (r.reconciledAt !== undefined) out.reconciledAt = r.reconciledAt.getTime();
  return out;
}

const byIdentifier = (a: DeviceProfileRow, b: DeviceProfileRow): number =>
  byBytes(a.identifier, b.identifier);

function recordsOf(s: AdminState, enrollmentId: string): DeviceProfileRecord[] {
  return [...(s.deviceProfiles.get(enrollmentId)?.values() ?? [])].sort(byIdentifier).map(record);
}

function put(s: AdminState, records: readonly DeviceProfileRecord[]): void {
  checkDeviceProfiles(records);
  for (const r of records) {
    let of = s.deviceProfiles.get(r.enrollmentId);
    if (of === undefined) {
      of = new Map();
      s.deviceProfiles.set(r.enrollmentId, of);
    }
    of.set(r.identifier, row(r));
  }
}

/** Whether `r` comes after the (enrollment, identifier) pair of a cursor. */
function afterPair(r: DeviceProfileRow, [enrollmentId, identifier]: [string, string]): boolean {
  const c = byBytes(r.enrollmentId, enrollmentId);
  return c > 0 || (c === 0 && byBytes(r.identifier, identifier) > 0);
}

function listProfileDevices(
  s: AdminState,
  profileId: string,
  options: Parameters<DeviceProfileStore['listProfileDevices']>[1],
) {
  checkLimit(options.limit, MAX_OWNED_PAGE);
  const after = options.cursor === undefined ? undefined : decodePairCursor(options.cursor);
  const states = options.states && new Set(options.states);
  const rows: DeviceProfileRow[] = [];
  for (const of of s.deviceProfiles.values())
    for (const r of of.values())
      if (r.profileId === profileId && (!states || states.has(r.state)))
        if (after === undefined || afterPair(r, after)) rows.push(r);
  rows.sort((a, b) => byBytes(a.enrollmentId, b.enrollmentId) || byIdentifier(a, b));
  const items = rows.slice(0, options.limit).map(record);
  const last = items.at(-1);
  return rows.length > options.limit && last
    ? { items, nextCursor: encodePairCursor(last.enrollmentId, last.identifier) }
    : { items };
}

function remove(s: AdminState, enrollmentId: string, identifiers?: readonly string[]): number {
  const of = s.deviceProfiles.get(enrollmentId);
  if (of === undefined) return 0;
  if (identifiers === undefined) {
    s.deviceProfiles.delete(enrollmentId);
    return of.size;
  }
  checkIds(identifiers, 'identifier');
  let n = 0;
  for (const id of unique(identifiers)) if (of.delete(id)) n += 1;
  if (of.size === 0) s.deviceProfiles.delete(enrollmentId);
  return n;
}

function reconcileDueOf(
  s: AdminState,
  candidates: readonly string[],
  before: Date,
  limit: number,
): string[] {
  checkIds(candidates, 'enrollment id');
  checkDate(before, 'before');
  checkLimit(limit, MAX_OWNED_PAGE);
  const out: string[] = [];
  for (const id of unique(candidates)) {
    if (out.length >= limit) break;
    const r = s.reconciles.get(id);
    if (reconcileDue(r && reconcileRecord(r), before)) out.push(id);
  }
  return out;
}

/** The {@link DeviceProfileStore} on the memory admin state. */
export function memoryDeviceProfiles(s: AdminState): DeviceProfileStore {
  const step = <T>(fn: () => T): Promise<T> => adminStep(s, fn);
  return {
    putDeviceProfiles: (records) =>
      step(() => {
        put(s, records);
      }),
    listDeviceProfiles: (enrollmentId) => step(() => recordsOf(s, enrollmentId)),
    listDeviceProfilesOf: (enrollmentIds) =>
      step(() => {
        checkIds(enrollmentIds, 'enrollment id');
        return unique(enrollmentIds)
          .sort(byBytes)
          .flatMap((id) => recordsOf(s, id));
      }),
    findDeviceProfile: (enrollmentId, identifier) =>
      step(() => {
        const r = s.deviceProfiles.get(enrollmentId)?.get(identifier);
        return r && record(r);
      }),
    findDeviceProfileByCommand: (enrollmentId, commandUuid) =>
      step(() => {
        const of = [...(s.deviceProfiles.get(enrollmentId)?.values() ?? [])].sort(byIdentifier);
        const r = of.find((x) => x.commandUuid === commandUuid);
        return r && record(r);
      }),
    listProfileDevices: (profileId, options) =>
      step(() => listProfileDevices(s, profileId, options)),
    deleteDeviceProfiles: (enrollmentId, identifiers) =>
      step(() => remove(s, enrollmentId, identifiers)),
    putReconcile: (r) =>
      step(() => {
        checkReconcile(r);
        s.reconciles.set(r.enrollmentId, reconcileRow(r));
      }),
    findReconcile: (enrollmentId) =>
      step(() => {
        checkId(enrollmentId, 'enrollment id');
        const r = s.reconciles.get(enrollmentId);
        return r && reconcileRecord(r);
      }),
    listReconcileDue: (candidates, before, limit) =>
      step(() => reconcileDueOf(s, candidates, before, limit)),
  };
}
