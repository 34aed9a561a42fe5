/**
 * The JSON forms of API keys and enrollment links, without their secrets: what the admin API
 * answers and `orchard apikey` / `orchard enroll` print.
 */
import type {
  AdminRole,
  ApiKeyRecord,
  EnrollmentTokenRecord,
  PrincipalRecord,
} from '../storage/ports.js';

const iso = (d: Date | undefined): string | null => (d === undefined ? null : d.toISOString());

/** The JSON form of an API key: times as ISO 8601, `null` when absent. */
export interface ApiKeyJson {
  id: string;
  name: string;
  scope: 'read' | 'write';
  /** The administrator the key belongs to. */
  principalId: string;
  createdAt: string | null;
  revokedAt: string | null;
}

/** An API key without its secret. */
export function apiKeyView(k: ApiKeyRecord): ApiKeyJson {
  return {
    id: k.id,
    name: k.name,
    scope: k.scope,
    principalId: k.principalId,
    createdAt: iso(k.createdAt),
    revokedAt: iso(k.revokedAt),
  };
}

/** The JSON form of an enrollment link: times as ISO 8601, `null` when absent. */
export interface EnrollmentTokenJson {
  id: string;
  singleUse: boolean;
  uses: number;
  enrollments: number;
  user: string | null;
  expiresAt: string | null;
  createdAt: string | null;
  revokedAt: string | null;
}

/**
 * An enrollment link without its secret: `uses` counts profile downloads, `enrollments` the
 * certificates issued against its challenges (a single-use link is spent at one).
 */
export function tokenView(t: EnrollmentTokenRecord): EnrollmentTokenJson {
  return {
    id: t.id,
    singleUse: t.singleUse,
    uses: t.uses,
    enrollments: t.enrollments,
    user: t.user ?? null,
    expiresAt: iso(t.expiresAt),
    createdAt: iso(t.createdAt),
    revokedAt: iso(t.revokedAt),
  };
}

/** The JSON form of an administrator: times as ISO 8601, `disabledAt` `null` while active. */
export interface AdminJson {
  id: string;
  name: string;
  role: AdminRole;
  /** The organization group its scope starts at. */
  groupId: string;
  createdAt: string | null;
  disabledAt: string | null;
}

/** An administrator (principal) as the admin API answers it and `orchard admins` prints it. */
export function adminView(p: PrincipalRecord): AdminJson {
  return {
    id: p.id,
    name: p.name,
    role: p.role,
    groupId: p.groupId,
    createdAt: iso(p.createdAt),
    disabledAt: iso(p.disabledAt),
  };
}
