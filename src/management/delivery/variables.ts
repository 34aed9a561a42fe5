/**
 * Profile variables (rule S3): `$SERIAL`, `$UDID`, `$USERNAME`, `$EMAIL`, `$OG` and
 * `$CUSTOM_1..3`, found in a profile's string values, resolved per device at queue time and
 * substituted into a copy. Only these exact tokens are variables; a token ends where no letter,
 * digit or underscore follows. Resolutions name where a value comes from, never the value.
 */
import { isPlistDict, PlistReal, type PlistDict, type PlistValue } from '../../protocol/plist.js';
import type { DeviceContext, ProfileVariable, VariableResolution } from './types.js';
import { PROFILE_VARIABLES } from './types.js';

/** Longest names first, so no name matches as the prefix of another. */
const ALTERNATIVES = [...PROFILE_VARIABLES]
  .sort((a, b) => b.length - a.length)
  .map((v) => `\\$${v.slice(1)}`)
  .join('|');

/** A known variable not followed by an identifier character. */
const TOKEN = new RegExp(`(?:${ALTERNATIVES})(?![A-Za-z0-9_])`, 'g');

const ORDER = new Map<string, number>(PROFILE_VARIABLES.map((v, i) => [v, i]));

function collect(value: PlistValue, found: Set<ProfileVariable>): void {
  if (typeof value === 'string') {
    if (!value.includes('$')) return;
    for (const m of value.matchAll(TOKEN)) found.add(m[0] as ProfileVariable);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, found);
  } else if (isPlistDict(value)) {
    for (const v of Object.values(value)) collect(v, found);
  }
}

/**
 * The variables used in `content`'s string values (not keys, not data), unique and in
 * {@link PROFILE_VARIABLES} order.
 */
export function variablesIn(content: PlistDict): ProfileVariable[] {
  const found = new Set<ProfileVariable>();
  collect(content, found);
  return [...found].sort((a, b) => (ORDER.get(a) ?? 0) - (ORDER.get(b) ?? 0));
}

interface Lookup {
  value?: string;
  source: string;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function userField(
  device: DeviceContext,
  field: 'username' | 'email' | 'custom1' | 'custom2' | 'custom3',
): Lookup {
  const user = device.user;
  if (!user) return { source: 'no user owns this enrollment' };
  const value = nonEmpty(user[field]);
  const source = `user ${user.username}: ${field}`;
  return value === undefined ? { source: `${source} is empty` } : { value, source };
}

function lookup(name: ProfileVariable, device: DeviceContext): Lookup {
  const { enrollment } = device;
  switch (name) {
    case '$SERIAL': {
      const value = nonEmpty(enrollment.facts.SerialNumber);
      return value === undefined
        ? { source: 'enrollment fact SerialNumber: not reported' }
        : { value, source: 'enrollment fact SerialNumber' };
    }
    case '$UDID':
      if (
        enrollment.type === 'user-enrollment-device' ||
        enrollment.type === 'user-enrollment-user'
      )
        return { source: 'User Enrollment keeps the device identifier private' };
      return { value: enrollment.deviceId, source: 'enrollment device id (UDID)' };
    case '$USERNAME':
      return userField(device, 'username');
    case '$EMAIL':
      return userField(device, 'email');
    case '$OG': {
      const group = device.group;
      if (!group) return { source: 'no organization group (no user owns this enrollment)' };
      const value = nonEmpty(group.name);
      return value === undefined
        ? { source: `group ${group.id}: name is empty` }
        : { value, source: `group ${group.id}: name` };
    }
    case '$CUSTOM_1':
      return userField(device, 'custom1');
    case '$CUSTOM_2':
      return userField(device, 'custom2');
    case '$CUSTOM_3':
      return userField(device, 'custom3');
  }
}

/**
 * Resolves `names` for one device: the values (for {@link substituteVariables}), one
 * resolution per name saying where its value comes from (never the value), and the names with
 * no value. `$UDID` is unresolved under User Enrollment; `$SERIAL` when the fact is missing.
 */
export function resolveVariables(
  names: readonly ProfileVariable[],
  device: DeviceContext,
): {
  values: Map<ProfileVariable, string>;
  resolutions: VariableResolution[];
  unresolved: ProfileVariable[];
} {
  const values = new Map<ProfileVariable, string>();
  const resolutions: VariableResolution[] = [];
  const unresolved: ProfileVariable[] = [];
  for (const name of names) {
    const found = lookup(name, device);
    if (found.value === undefined) unresolved.push(name);
    else values.set(name, found.value);
    resolutions.push({ name, resolved: found.value !== undefined, source: found.source });
  }
  return { values, resolutions, unresolved };
}

function substitute(value: PlistValue, values: ReadonlyMap<ProfileVariable, string>): PlistValue {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    return value.replace(TOKEN, (token) => values.get(token as ProfileVariable) ?? token);
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, values));
  if (value instanceof Date) return new Date(value.getTime());
  // Data is never substituted; it is shared with the input, which nobody writes to.
  if (value instanceof Uint8Array) return value;
  if (value instanceof PlistReal) return new PlistReal(value.value);
  if (isPlistDict(value)) {
    const out: PlistDict = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, values);
    return out;
  }
  return value;
}

/**
 * A copy of `content` with every variable in its string values replaced by its value in
 * `values`; variables without a value, keys and data are left as they are. `content` is not
 * changed.
 */
export function substituteVariables(
  content: PlistDict,
  values: ReadonlyMap<ProfileVariable, string>,
): PlistDict {
  return substitute(content, values) as PlistDict;
}
