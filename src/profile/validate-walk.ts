/**
 * The structural half of profile validation: walks a decoded profile against the
 * generated facts of `TopLevel`, `CommonPayloadKeys` and each payload type, and keeps
 * what the target half needs (usages, payload counts, removal controls).
 */
import type { ValidationIssue } from '../errors.js';
import type { PlistDict, PlistValue } from '../protocol/plist.js';
import type { EntryFacts, KeyFacts, OsTable, SchemaArea } from '../schema/facts.js';
import { profileFacts } from '../schema/generated/profile-facts.js';
import { isDict, typeName } from '../schema/values.js';
import type { Usage } from '../schema/walk.js';
import { keyPath, SchemaWalker } from '../schema/walk.js';

/** Payload type of the removal password payload. */
export const REMOVAL_PASSWORD_TYPE = 'com.apple.profileRemovalPassword';

/** A profile after the structural walk. */
export interface WalkedProfile {
  readonly issues: ValidationIssue[];
  readonly usages: readonly Usage[];
  /** Paths of the payloads of each known type, in order. */
  readonly payloads: ReadonlyMap<string, readonly string[]>;
  /** Whether top-level `PayloadRemovalDisallowed` is true. */
  readonly removalDisallowed: boolean;
}

/** Facts of a payload type; undefined for unknown types and the two meta entries. */
export function findPayloadFacts(payloadType: string): EntryFacts | undefined {
  if (payloadType === 'TopLevel' || payloadType === 'CommonPayloadKeys') return undefined;
  return Object.hasOwn(profileFacts.entries, payloadType)
    ? profileFacts.entries[payloadType]
    : undefined;
}

/**
 * Top-level keys Apple's schema listed up to 18.x and dropped at 26.x. Orchard still writes
 * them (`encryptProfile`, `setRemovalPassword`) because earlier OS versions read them, devices
 * report both in ProfileList, and Apple's 26.4 text still refers to `IsEncrypted`; so they are
 * known booleans here, not unknown keys.
 */
const RETIRED_TOP_LEVEL: readonly KeyFacts[] = [
  { key: 'IsEncrypted', type: 'boolean', default: false },
  { key: 'HasRemovalPasscode', type: 'boolean', default: false },
];

/** The profile facts plus {@link RETIRED_TOP_LEVEL} the schema no longer has, and the top-level key ids. */
function withRetiredKeys(): { area: SchemaArea; topKeys: readonly number[] } {
  const top = meta('TopLevel').keys;
  const present = new Set(top.map((id) => profileFacts.nodes[id]?.key));
  const extra = RETIRED_TOP_LEVEL.filter((k) => !present.has(k.key));
  const base = profileFacts.nodes.length;
  return {
    area: { ...profileFacts, nodes: [...profileFacts.nodes, ...extra] },
    topKeys: [...top, ...extra.map((_, i) => base + i)],
  };
}

let retired: ReturnType<typeof withRetiredKeys> | undefined;

function meta(name: 'TopLevel' | 'CommonPayloadKeys'): EntryFacts {
  const entry = profileFacts.entries[name];
  if (!entry) throw new Error(`schema has no ${name}`);
  return entry;
}

/** The OS table of an entry, if Apple gives one. */
export function entryTable(entry: EntryFacts): OsTable | undefined {
  return entry.os === undefined ? undefined : profileFacts.osTables[entry.os];
}

const mergedKeys = new Map<string, readonly number[]>();

/** A payload type's own keys followed by the common keys it does not redefine. */
function payloadKeys(payloadType: string, entry: EntryFacts): readonly number[] {
  let keys = mergedKeys.get(payloadType);
  if (!keys) {
    const own = new Set(entry.keys.map((id) => profileFacts.nodes[id]?.key));
    const common = meta('CommonPayloadKeys').keys.filter(
      (id) => !own.has(profileFacts.nodes[id]?.key),
    );
    keys = [...entry.keys, ...common];
    mergedKeys.set(payloadType, keys);
  }
  return keys;
}

function walkPayload(
  w: SchemaWalker,
  payload: PlistValue,
  path: string,
  seen: Map<string, string[]>,
): void {
  if (!isDict(payload)) {
    w.issue(path, 'wrong-type', `a payload must be a dictionary, got ${typeName(payload)}`);
    return;
  }
  const type = payload.PayloadType;
  const entry = typeof type === 'string' ? findPayloadFacts(type) : undefined;
  if (typeof type !== 'string' || !entry) {
    if (typeof type === 'string') {
      w.issue(
        keyPath(path, 'PayloadType'),
        'unknown-payload-type',
        `${type} is not a payload type in Apple's schema`,
      );
    }
    // Only the common keys can be checked on a payload of unknown type.
    const common = meta('CommonPayloadKeys');
    const names = new Set(common.keys.map((id) => w.node(id).key));
    const known: PlistDict = Object.fromEntries(
      Object.entries(payload).filter(([k]) => names.has(k)),
    );
    w.dict(known, common.keys, path, undefined, 1);
    return;
  }
  w.payloadType = type;
  const table = entryTable(entry);
  w.use(path, type, table);
  w.dict(payload, payloadKeys(type, entry), path, table, 1);
  w.payloadType = undefined;
  const list = seen.get(type) ?? [];
  list.push(path);
  seen.set(type, list);
}

function duplicates(w: SchemaWalker, profile: PlistDict, content: readonly PlistValue[]): void {
  for (const key of ['PayloadUUID', 'PayloadIdentifier'] as const) {
    const first = new Map<string, string>();
    if (key === 'PayloadUUID' && typeof profile.PayloadUUID === 'string')
      first.set(profile.PayloadUUID, 'the profile');
    content.forEach((p, i) => {
      const v = isDict(p) ? p[key] : undefined;
      if (typeof v !== 'string') return;
      const where = first.get(v);
      const code = key === 'PayloadUUID' ? 'duplicate-uuid' : 'duplicate-identifier';
      if (where)
        w.issue(`PayloadContent[${i}].${key}`, code, `${key} ${v} is already used by ${where}`);
      else first.set(v, `PayloadContent[${i}]`);
    });
  }
}

/** Walks `profile` structurally; never throws on bad input. */
export function walkProfile(profile: PlistValue): WalkedProfile {
  retired ??= withRetiredKeys();
  const w = new SchemaWalker(retired.area);
  const payloads = new Map<string, string[]>();
  if (!isDict(profile)) {
    w.issue('', 'wrong-type', `a profile must be a dictionary, got ${typeName(profile)}`);
    return { issues: w.issues, usages: w.usages, payloads, removalDisallowed: false };
  }
  const top = meta('TopLevel');
  const table = entryTable(top);
  w.use('', 'The profile', table);
  w.dict(profile, retired.topKeys, '', table, 0, new Set(['PayloadContent']));
  const content = profile.PayloadContent;
  if (Array.isArray(content)) {
    content.forEach((p, i) => {
      walkPayload(w, p, `PayloadContent[${i}]`, payloads);
    });
    duplicates(w, profile, content);
  }
  let issues = w.issues;
  if (profile.EncryptedPayloadContent !== undefined && content === undefined) {
    issues = issues.filter((i) => !(i.code === 'missing-key' && i.path === 'PayloadContent'));
    issues.push({
      path: 'EncryptedPayloadContent',
      code: 'encrypted',
      message: 'the payloads are encrypted and were not checked',
      severity: 'warning',
    });
  }
  return {
    issues,
    usages: w.usages,
    payloads,
    removalDisallowed: profile.PayloadRemovalDisallowed === true,
  };
}
