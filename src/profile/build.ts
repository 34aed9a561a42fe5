/**
 * Builds configuration profiles from specs: fills the top-level and common payload keys
 * (deterministic UUIDs derived from identifiers when not given) and converts spec values
 * to plist types the schema asks for (`<real>`, `<data>` from base64, `<date>` from ISO text).
 */
import { createHash } from 'node:crypto';
import type { ValidationIssue } from '../errors.js';
import { ValidationError } from '../errors.js';
import type { PlistDict, PlistValue } from '../protocol/plist.js';
import { encodePlist, PlistReal } from '../protocol/plist.js';
import type { KeyFacts } from '../schema/facts.js';
import { profileFacts } from '../schema/generated/profile-facts.js';
import type { PayloadSpec, ProfileSpec } from './spec.js';
import { checkProfileSpec } from './spec.js';
import { findPayloadFacts } from './validate-walk.js';
import { validateProfile } from './validate.js';

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

/** RFC 9562 version-5 UUID (SHA-1) of `name` in `namespace`, uppercase as Apple writes them. */
export function uuidV5(name: string, namespace: string = ORCHARD_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new TypeError(`namespace is not a UUID: ${namespace}`);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Namespace of the UUIDs Orchard derives: UUIDv5 of `profiles.orchard-mdm` in the DNS namespace. */
export const ORCHARD_NAMESPACE = uuidV5('profiles.orchard-mdm', DNS_NAMESPACE);

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/** Converts a spec value to the plist type of `node`; anything it cannot convert is left for validation to report. */
function coerce(
  value: unknown,
  node: KeyFacts | undefined,
  path: string,
  issues: ValidationIssue[],
): PlistValue {
  if (value === null || value === undefined) {
    issues.push({
      path,
      code: 'spec-null',
      message: 'null has no property-list form',
      severity: 'error',
    });
    return '';
  }
  if (node?.type === 'real' && typeof value === 'number') return new PlistReal(value);
  if (node?.type === 'data' && typeof value === 'string' && BASE64.test(value))
    return Buffer.from(value, 'base64');
  if (node?.type === 'date' && typeof value === 'string' && !Number.isNaN(Date.parse(value)))
    return new Date(value);
  if (Array.isArray(value)) {
    const items = (node?.subkeys ?? []).map((id) => profileFacts.nodes[id]);
    return value.map((v: unknown, i) =>
      coerce(v, items.length === 1 ? items[0] : undefined, `${path}[${i}]`, issues),
    );
  }
  if (typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    return coerceDict(value as Record<string, unknown>, node?.subkeys ?? [], path, issues);
  }
  return value as PlistValue;
}

function coerceDict(
  value: Record<string, unknown>,
  ids: readonly number[],
  path: string,
  issues: ValidationIssue[],
): PlistDict {
  const specs = new Map(ids.map((id) => [profileFacts.nodes[id]?.key, profileFacts.nodes[id]]));
  const out: PlistDict = {};
  for (const [key, v] of Object.entries(value)) {
    Object.defineProperty(out, key, {
      value: coerce(
        v,
        specs.get(key) ?? specs.get('ANY'),
        path === '' ? key : `${path}.${key}`,
        issues,
      ),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function topKeys(): readonly number[] {
  return profileFacts.entries.TopLevel?.keys ?? [];
}

function buildPayload(
  spec: PayloadSpec,
  identifier: string,
  path: string,
  issues: ValidationIssue[],
): PlistDict {
  const { type, ...keys } = spec;
  const entry = findPayloadFacts(type);
  const common = profileFacts.entries.CommonPayloadKeys?.keys ?? [];
  const body = coerceDict(keys, [...(entry?.keys ?? []), ...common], path, issues);
  const payloadIdentifier =
    typeof keys.PayloadIdentifier === 'string' ? keys.PayloadIdentifier : identifier;
  return {
    PayloadType: type,
    PayloadVersion: 1,
    PayloadIdentifier: payloadIdentifier,
    PayloadUUID: uuidV5(`payload:${payloadIdentifier}`),
    ...body,
  };
}

/**
 * Builds a profile dictionary from `spec`. Missing keys are filled: `PayloadType`
 * `Configuration`, `PayloadVersion` 1, `PayloadDisplayName` (the identifier), and per payload
 * `PayloadIdentifier` (`<profile id>.<type>`, then `.2`, `.3` for repeats) and `PayloadUUID`
 * (UUIDv5 of the identifier), so the same spec always gives the same profile. Throws
 * `ValidationError` (`ERR_VALIDATION`) when the spec is malformed or the result breaks Apple's
 * schema (every issue listed); pass `validate: false` to skip the schema check.
 */
export function buildProfile(spec: ProfileSpec, options: { validate?: boolean } = {}): PlistDict {
  const checked = checkProfileSpec(spec);
  const { payloads, ...top } = checked;
  const issues: ValidationIssue[] = [];
  const counts = new Map<string, number>();
  const content = payloads.map((p, i) => {
    const n = (counts.get(p.type) ?? 0) + 1;
    counts.set(p.type, n);
    const identifier = `${checked.PayloadIdentifier}.${p.type}${n > 1 ? `.${n}` : ''}`;
    return buildPayload(p, identifier, `payloads[${i}]`, issues);
  });
  const profile: PlistDict = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: checked.PayloadIdentifier,
    PayloadUUID: uuidV5(`profile:${checked.PayloadIdentifier}`),
    PayloadDisplayName: checked.PayloadIdentifier,
    ...coerceDict(top, topKeys(), '', issues),
    PayloadContent: content,
  };
  if (options.validate !== false) {
    issues.push(...validateProfile(profile).filter((i) => i.severity === 'error'));
  }
  if (issues.length > 0)
    throw new ValidationError('the profile spec does not give a valid profile', issues);
  return profile;
}

/** {@link buildProfile}, encoded as a .mobileconfig (XML plist by default). Throws as `buildProfile`. */
export function buildProfileFile(
  spec: ProfileSpec,
  options: { format?: 'xml' | 'binary'; validate?: boolean } = {},
): Buffer {
  const profile = buildProfile(
    spec,
    options.validate === undefined ? {} : { validate: options.validate },
  );
  return encodePlist(profile, { format: options.format ?? 'xml' });
}
