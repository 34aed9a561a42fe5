/**
 * Profile specs: the JSON or YAML description `orchard profile build` turns into a
 * .mobileconfig. Top-level keys in Apple's spelling plus `payloads`, a list of
 * `{ type, ...keys }`; see docs/profiles.md.
 */
import { createRequire } from 'node:module';
import type * as YamlModule from 'yaml';
import type { ValidationIssue } from '../errors.js';
import { ValidationError } from '../errors.js';
import type {
  PayloadCommonKeys,
  ProfilePayloadKeys,
  ProfileTopLevelKeys,
} from '../schema/generated/profile-types.js';

type Yaml = typeof YamlModule;
let yaml: Yaml | undefined;

/** The yaml package, loaded on the first YAML spec read: a daemon never reads one. */
function loadYaml(): Yaml {
  yaml ??= createRequire(import.meta.url)('yaml') as Yaml;
  return yaml;
}

/** A payload type in Apple's schema, e.g. `com.apple.wifi.managed`. */
export type ProfilePayloadType = Exclude<
  keyof ProfilePayloadKeys,
  'TopLevel' | 'CommonPayloadKeys'
>;

/** One payload of a spec: `type` plus keys in Apple's spelling; common keys are optional. */
export interface PayloadSpec {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** A profile spec: `PayloadIdentifier` (required), other top-level keys, and the payloads. */
export interface ProfileSpec {
  readonly PayloadIdentifier: string;
  readonly payloads: readonly PayloadSpec[];
  readonly [key: string]: unknown;
}

/** A payload spec typed by Apple's schema for payload type `T`. */
export type TypedPayloadSpec<T extends ProfilePayloadType> = {
  type: T;
} & Partial<PayloadCommonKeys> &
  ProfilePayloadKeys[T];

/** A profile spec whose top-level keys are typed; payloads are built with {@link payloadSpec}. */
export type TypedProfileSpec = Partial<Omit<ProfileTopLevelKeys, 'PayloadContent'>> & {
  PayloadIdentifier: string;
  payloads: readonly PayloadSpec[];
};

/** Typed helper for one payload of a spec; returns its argument. */
export function payloadSpec<T extends ProfilePayloadType>(spec: TypedPayloadSpec<T>): PayloadSpec {
  return spec;
}

const issue = (path: string, code: string, message: string): ValidationIssue => ({
  path,
  code,
  message,
  severity: 'error',
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks the shape of a parsed spec (a dictionary with a string `PayloadIdentifier` and a
 * `payloads` list of dictionaries with a string `type`). Throws `ValidationError`
 * (`ERR_VALIDATION`) listing every problem, with paths into the spec.
 */
export function checkProfileSpec(value: unknown): ProfileSpec {
  const issues: ValidationIssue[] = [];
  if (!isRecord(value))
    throw new ValidationError('invalid profile spec', [
      issue('', 'spec-shape', 'the spec must be a dictionary'),
    ]);
  if (typeof value.PayloadIdentifier !== 'string' || value.PayloadIdentifier === '') {
    issues.push(
      issue('PayloadIdentifier', 'missing-key', 'the spec needs a PayloadIdentifier string'),
    );
  }
  if (value.PayloadContent !== undefined) {
    issues.push(
      issue('PayloadContent', 'spec-shape', 'list payloads under `payloads`, not PayloadContent'),
    );
  }
  if (!Array.isArray(value.payloads)) {
    issues.push(issue('payloads', 'missing-key', 'the spec needs a `payloads` list'));
  } else {
    value.payloads.forEach((p: unknown, i) => {
      if (!isRecord(p))
        issues.push(issue(`payloads[${i}]`, 'spec-shape', 'a payload must be a dictionary'));
      else if (typeof p.type !== 'string')
        issues.push(issue(`payloads[${i}].type`, 'missing-key', 'a payload needs a `type` string'));
    });
  }
  if (issues.length > 0) throw new ValidationError('invalid profile spec', issues);
  return value as unknown as ProfileSpec;
}

/**
 * Parses a spec from JSON or YAML text (`format` defaults to YAML, which also reads JSON).
 * Throws `ValidationError` with code `spec-syntax` issues on a syntax error, and as
 * {@link checkProfileSpec} on a wrong shape.
 */
export function parseProfileSpec(text: string, format: 'json' | 'yaml' = 'yaml'): ProfileSpec {
  let value: unknown;
  try {
    value = format === 'json' ? JSON.parse(text) : loadYaml().parse(text, { maxAliasCount: 100 });
  } catch (error) {
    const message =
      error instanceof Error ? (error.message.split('\n')[0] ?? 'syntax error') : 'syntax error';
    throw new ValidationError('invalid profile spec', [issue('', 'spec-syntax', message)], {
      cause: error,
    });
  }
  return checkProfileSpec(value);
}
