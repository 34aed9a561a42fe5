/**
 * What the policy tests share: a delivery double that records every change it is asked to
 * preview or apply (answering an empty report) and throws on anything else, a small valid
 * profile for the library, and the tree of the rule tests on the memory admin store.
 */
import type {
  ChangeReport,
  DeliveryService,
  PolicyChange,
} from '../../src/management/delivery/types.js';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import type { PlistDict } from '../../src/protocol/plist.js';
import type { AdminStorage, LibraryProfileRecord } from '../../src/storage/ports.js';
import { encodePlist } from '../../src/protocol/plist.js';

/** A fixed instant for records. */
export const NOW = new Date('2026-12-07T00:00:00Z');

/** One call the delivery double received. */
export interface EffectCall {
  op: 'preview' | 'apply';
  change: PolicyChange;
  limit?: number;
}

/** The report the double answers: nothing reached. */
export function emptyReport(applied: boolean): ChangeReport {
  const totals = { added: 0, removed: 0, updated: 0, unchanged: 0, skipped: 0, blocked: 0 };
  return { applied, devices: 0, totals, plans: [], truncated: false, commandsQueued: 0 };
}

/**
 * A delivery service whose `preview` and `apply` record their calls in `calls` (answering
 * {@link emptyReport}); any other member throws, so a test proves nothing else was asked.
 */
export function recordingDelivery(): { delivery: DeliveryService; calls: EffectCall[] } {
  const calls: EffectCall[] = [];
  const record = (op: EffectCall['op']) => (change: PolicyChange, options?: { limit?: number }) => {
    calls.push({ op, change, ...(options?.limit === undefined ? {} : { limit: options.limit }) });
    return Promise.resolve(emptyReport(op === 'apply'));
  };
  const members: Record<string, unknown> = { preview: record('preview'), apply: record('apply') };
  const delivery = new Proxy({} as DeliveryService, {
    get(_target, key) {
      const found = members[String(key)];
      if (found === undefined) throw new Error(`delivery.${String(key)} was used`);
      return found;
    },
  });
  return { delivery, calls };
}

/** A profile payload of `type` with `content` (e.g. a restrictions payload). */
export function profileContent(identifier: string, payload: PlistDict): PlistDict {
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: 'A0000000-0000-4000-8000-000000000001',
    PayloadDisplayName: identifier,
    PayloadContent: [
      {
        PayloadVersion: 1,
        PayloadIdentifier: `${identifier}.payload`,
        PayloadUUID: 'A0000000-0000-4000-8000-000000000002',
        ...payload,
      },
    ],
  };
}

/** Stores a library profile (version 1 of `content`) owned by `groupId` with id `prf_${name}`. */
export async function storeProfile(
  store: AdminStorage,
  name: string,
  groupId: string,
  content: PlistDict,
  assignmentType: LibraryProfileRecord['assignmentType'] = 'auto',
): Promise<LibraryProfileRecord> {
  const id = `prf_${name}`;
  const identifier = content.PayloadIdentifier as string;
  const record: LibraryProfileRecord = {
    ...{ id, groupId, identifier, name, assignmentType, latestVersion: 1 },
    ...{ createdAt: NOW, updatedAt: NOW },
  };
  const bytes = Buffer.from(encodePlist(content));
  const created = await store.createLibraryProfile(record, {
    ...{ profileId: id, version: 1, payloadUuid: content.PayloadUUID as string },
    ...{ content: bytes, sha256: 'x'.repeat(64), createdBy: 'test', createdAt: NOW },
  });
  if (!created) throw new Error(`profile ${name} not stored`);
  return record;
}

/** The memory admin store with the rule tests' tree: Global > EU > FR > Paris, EU > DE, Global > US. */
export async function policyStore(): Promise<AdminStorage> {
  const store = createMemoryAdminStorage({ clock: () => NOW });
  const { revision } = await store.loadManagement();
  const group = (id: string, parentId: string) => ({ id, name: id, parentId, createdAt: NOW });
  await store.applyManagement(
    {
      putGroups: [
        group('eu', 'global'),
        group('fr', 'eu'),
        group('paris', 'fr'),
        group('de', 'eu'),
        group('us', 'global'),
      ],
    },
    revision,
  );
  return store;
}
