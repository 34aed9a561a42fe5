/**
 * Rows of the ACME tables (migration 11) and their records: JSON columns parsed, times as Dates,
 * absent values as absent fields. Split from `acme.ts` for size.
 */
import type {
  AcmeAccountRecord,
  AcmeAuthorizationRecord,
  AcmeChallengeRecord,
  AcmeIdentifier,
  AcmeOrderRecord,
  AcmeProblemRecord,
} from '../ports.js';

/** A row of `orchard_acme_accounts`. */
export interface AccountRow {
  id: string;
  thumbprint: string;
  jwk: string;
  status: AcmeAccountRecord['status'];
  contact: string;
  created_at: number;
}

/** A row of `orchard_acme_orders`. */
export interface OrderRow {
  id: string;
  account_id: string;
  status: AcmeOrderRecord['status'];
  identifiers: string;
  authorization_ids: string;
  enrollment_id: string | null;
  created_at: number;
  expires_at: number;
  error: string | null;
  certificate_serial: string | null;
}

/** A row of `orchard_acme_authorizations`. */
export interface AuthorizationRow {
  id: string;
  order_id: string;
  account_id: string;
  identifier_type: string;
  identifier_value: string;
  status: AcmeAuthorizationRecord['status'];
  expires_at: number;
  bound_key: Buffer | null;
  attested_serial: string | null;
  attested_udid: string | null;
}

/** A row of `orchard_acme_challenges`. */
export interface ChallengeRow {
  id: string;
  authorization_id: string;
  account_id: string;
  type: string;
  token: string;
  status: AcmeChallengeRecord['status'];
  validated_at: number | null;
  error: string | null;
}

/** The record of an account row. */
export function toAccount(r: AccountRow): AcmeAccountRecord {
  return {
    id: r.id,
    thumbprint: r.thumbprint,
    jwk: r.jwk,
    status: r.status,
    contact: JSON.parse(r.contact) as string[],
    createdAt: new Date(r.created_at),
  };
}

/** The record of an order row. */
export function toOrder(r: OrderRow): AcmeOrderRecord {
  const o: AcmeOrderRecord = {
    id: r.id,
    accountId: r.account_id,
    status: r.status,
    identifiers: JSON.parse(r.identifiers) as AcmeIdentifier[],
    authorizationIds: JSON.parse(r.authorization_ids) as string[],
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
  };
  if (r.enrollment_id !== null) o.enrollmentId = r.enrollment_id;
  if (r.error !== null) o.error = JSON.parse(r.error) as AcmeProblemRecord;
  if (r.certificate_serial !== null) o.certificateSerial = r.certificate_serial;
  return o;
}

/** The record of an authorization row. */
export function toAuthorization(r: AuthorizationRow): AcmeAuthorizationRecord {
  const a: AcmeAuthorizationRecord = {
    id: r.id,
    orderId: r.order_id,
    accountId: r.account_id,
    identifier: { type: r.identifier_type, value: r.identifier_value },
    status: r.status,
    expiresAt: new Date(r.expires_at),
  };
  if (r.bound_key !== null) a.boundKey = r.bound_key;
  if (r.attested_serial !== null) a.attestedSerial = r.attested_serial;
  if (r.attested_udid !== null) a.attestedUdid = r.attested_udid;
  return a;
}

/** The record of a challenge row. */
export function toChallenge(r: ChallengeRow): AcmeChallengeRecord {
  const c: AcmeChallengeRecord = {
    id: r.id,
    authorizationId: r.authorization_id,
    accountId: r.account_id,
    type: r.type,
    token: r.token,
    status: r.status,
  };
  if (r.validated_at !== null) c.validatedAt = new Date(r.validated_at);
  if (r.error !== null) c.error = JSON.parse(r.error) as AcmeProblemRecord;
  return c;
}

/** JSON text of `v`, or null for undefined (a NULL column). */
export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
