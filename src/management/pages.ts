/**
 * Settings pages: the unit of settings inheritance (rules A1-A11 work per page, as in Workspace
 * ONE). Each page has an id, a strict zod schema of its values and complete defaults, so the
 * effective values of any group are the defaults overlaid with its source's stored values. Later
 * issues add pages to {@link SETTINGS_PAGES}.
 */
import { z } from 'zod';

/** A settings page: its id, title, the schema of its values and their defaults. */
export interface SettingsPage {
  /** Stable id used in URLs and records, e.g. `profile-options`. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** Strict schema of the complete values (unknown keys are refused). */
  readonly schema: z.ZodType<Record<string, unknown>>;
  /** Complete values a group gets when nothing above it overrides a key. */
  readonly defaults: Readonly<Record<string, unknown>>;
}

const DAY = 86_400;

/** Enrollment types a link may allow (rule M11's vocabulary). */
export const ENROLLMENT_TYPES = [
  'device',
  'ade',
  'user-enrollment',
  'account-driven-user',
  'account-driven-device',
] as const;

/**
 * How devices enrolling through a link get their identity: `scep` (every device), `acme` (every
 * device, the `com.apple.security.acme` payload with a hardware-bound, attested key) or
 * `acme-where-supported` (ACME for a device whose platform and OS version are known to support
 * hardware-bound attested ACME identities, SCEP otherwise).
 */
export const ENROLLMENT_IDENTITIES = ['scep', 'acme', 'acme-where-supported'] as const;

/** `profile-options`: whether profiles owned here may use the Interactive assignment type (A13). */
export const PROFILE_OPTIONS_PAGE: SettingsPage = {
  id: 'profile-options',
  title: 'Profile options',
  description: 'Interactive Assignment Type: whether profiles owned here may be Interactive (A13).',
  schema: z.strictObject({ interactiveEnabled: z.boolean() }),
  defaults: { interactiveEnabled: false },
};

/**
 * `enrollment`: link lifetime (at least 24 h, S9), allowed enrollment types, generic-link prefix,
 * and the identity of link enrollments (SCEP or ACME, see {@link ENROLLMENT_IDENTITIES}).
 */
export const ENROLLMENT_PAGE: SettingsPage = {
  id: 'enrollment',
  title: 'Enrollment',
  description:
    'Enrollment link lifetime (1 to 365 days), allowed enrollment types, the name prefix of generic-link users, and the device identity of link enrollments: scep, acme (hardware-bound attested key) or acme-where-supported (iOS/iPadOS 16+, tvOS 16+, macOS 14+ when the download tells the version; SCEP otherwise).',
  schema: z.strictObject({
    linkLifetimeSeconds: z
      .number()
      .int()
      .min(DAY, { error: 'links live at least 24 hours (86400 seconds)' })
      .max(365 * DAY),
    allowedEnrollmentTypes: z
      .array(z.enum(ENROLLMENT_TYPES))
      .min(1)
      .refine((types) => new Set(types).size === types.length, {
        error: 'enrollment types must be unique',
      }),
    genericLinkPrefix: z
      .string()
      .min(1)
      .max(32)
      .regex(/^[A-Za-z0-9-]+$/, { error: 'letters, digits and - only' }),
    identity: z.enum(ENROLLMENT_IDENTITIES, {
      error: 'identity is one of scep, acme, acme-where-supported',
    }),
  }),
  defaults: {
    linkLifetimeSeconds: 7 * DAY,
    allowedEnrollmentTypes: [...ENROLLMENT_TYPES],
    genericLinkPrefix: 'device',
    identity: 'scep',
  },
};

/** `self-service`: what enrolled users may do themselves in the portal (M13). */
export const SELF_SERVICE_PAGE: SettingsPage = {
  id: 'self-service',
  title: 'Self-service',
  description:
    'What users may do in the portal: install Optional or Interactive profiles, remove Optional ones, lock, clear the passcode, query or erase their devices, download Optional profiles to install by hand.',
  schema: z.strictObject({
    installOptional: z.boolean(),
    installInteractive: z.boolean(),
    removeOptional: z.boolean(),
    lock: z.boolean(),
    clearPasscode: z.boolean(),
    deviceQuery: z.boolean(),
    erase: z.boolean(),
    downloadProfiles: z.boolean(),
  }),
  defaults: {
    installOptional: true,
    installInteractive: true,
    removeOptional: true,
    lock: true,
    clearPasscode: false,
    deviceQuery: true,
    erase: false,
    downloadProfiles: false,
  },
};

/** Every settings page, in display order. */
export const SETTINGS_PAGES: readonly SettingsPage[] = [
  PROFILE_OPTIONS_PAGE,
  ENROLLMENT_PAGE,
  SELF_SERVICE_PAGE,
];

/** The page with this id, or `undefined`. */
export function findSettingsPage(id: string): SettingsPage | undefined {
  return SETTINGS_PAGES.find((p) => p.id === id);
}

/** The complete values of `page` from stored ones: defaults overlaid, unknown keys dropped. */
export function completeValues(
  page: SettingsPage,
  stored: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(page.defaults))
    out[key] = stored !== undefined && Object.hasOwn(stored, key) ? stored[key] : value;
  return out;
}
