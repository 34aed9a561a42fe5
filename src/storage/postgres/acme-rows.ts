/**
 * Rows of the PostgreSQL ACME tables (migration 3) and their records: the driver already returns
 * times as Dates, jsonb parsed and bytea as Buffers; absent values become absent fields. Split
 * from `acme.ts` for size.
 */
import type {
  AcmeAccountRecord,
  AcmeAuthorizationRecord,
  AcmeChallengeRecord,
  AcmeIdentifier,
  AcmeOrderRecord,
  AcmeProblemRecord,
} from '../ports.js';
import { setIf } from './db.js';

/** A row of `orchard_acme_accounts`. */
export interface AccountRow {
  id: string;
  thumbprint: string;
  jwk: string;
  status: AcmeAccountRecord['status'];
  contact: string[];
  created_at: Date;
}

/** A row of `orchard_acme_orders`. */
export interface OrderRow {
  id: string;
  account_id: string;
  status: AcmeOrderRecord['status'];
  identifiers: AcmeIdentifier[];
  authorization_ids: string[];
  enrollment_id: string | null;
  created_at: Date;
  expires_at: Date;
  error: AcmeProblemRecord | null;
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
  expires_at: Date;
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
  validated_at: Date | null;
  error: AcmeProblemRecord | null;
}

/** The record of an account row. */
export function toAccount(r: AccountRow): AcmeAccountRecord {
  return {
    id: r.id,
    thumbprint: r.thumbprint,
    jwk: r.jwk,
    status: r.status,
    contact: r.contact,
    createdAt: r.created_at,
  };
}

/** The record of an order row. */
export function toOrder(r: OrderRow): AcmeOrderRecord {
  const o: AcmeOrderRecord = {
    id: r.id,
    accountId: r.account_id,
    status: r.status,
    identifiers: r.identifiers.map((i) => ({ type: i.type, value: i.value })),
    authorizationIds: r.authorization_ids,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
  setIf(o, 'enrollmentId', r.enrollment_id);
  setIf(o, 'error', r.error);
  setIf(o, 'certificateSerial', r.certificate_serial);
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
    expiresAt: r.expires_at,
  };
  setIf(a, 'boundKey', r.bound_key);
  setIf(a, 'attestedSerial', r.attested_serial);
  setIf(a, 'attestedUdid', r.attested_udid);
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
  setIf(c, 'validatedAt', r.validated_at);
  setIf(c, 'error', r.error);
  return c;
}

/** JSON text of `v` for a `$n::jsonb` parameter, or null for undefined (a NULL column). */
export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
