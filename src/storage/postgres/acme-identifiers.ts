/**
 * One-time ACME ClientIdentifiers and attested devices in PostgreSQL (tables
 * `orchard_acme_client_ids` and `orchard_acme_attested_devices`, migration 4), shared by every
 * daemon on the database. Binding a value to its first account and using it up are each one
 * conditional `UPDATE ... RETURNING`, so of two daemons racing exactly one wins.
 */
import type { AcmeAttestedDeviceRecord, AcmeClientIdRecord, AcmeClientIdStore } from '../ports.js';
import { checkDate, checkId } from '../support.js';
import { openPostgresConnection, type PgPoolOptions } from './connection.js';
import { isUniqueViolation, one, op, query, run, setIf, type PgContext } from './db.js';

interface ClientIdRow {
  digest: string;
  enrollment_id: string;
  expected_udid: string | null;
  expected_serial: string | null;
  created_at: Date;
  expires_at: Date;
  account_id: string | null;
  used_at: Date | null;
}

interface AttestedRow {
  certificate_serial: string;
  serial: string | null;
  udid: string | null;
  expires_at: Date;
}

const INSERT = `INSERT INTO orchard_acme_client_ids (digest, enrollment_id, expected_udid,
  expected_serial, created_at, expires_at, account_id, used_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
const CLAIM = `UPDATE orchard_acme_client_ids SET account_id = coalesce(account_id, $1)
  WHERE digest = $2 AND used_at IS NULL AND expires_at > $3
    AND (account_id IS NULL OR account_id = $1) RETURNING *`;
const LIVE = `SELECT * FROM orchard_acme_client_ids
  WHERE digest = $1 AND used_at IS NULL AND expires_at > $2`;
const USE = `UPDATE orchard_acme_client_ids SET used_at = $1
  WHERE digest = $2 AND used_at IS NULL AND expires_at > $1 AND account_id = $3`;
const PUT_ATTESTED = `INSERT INTO orchard_acme_attested_devices
  (certificate_serial, serial, udid, expires_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT (certificate_serial) DO UPDATE SET serial = excluded.serial,
    udid = excluded.udid, expires_at = excluded.expires_at`;
const FIND_ATTESTED = 'SELECT * FROM orchard_acme_attested_devices WHERE certificate_serial = $1';
const PURGE = `WITH c AS (
    DELETE FROM orchard_acme_client_ids WHERE expires_at <= $1 RETURNING 1
  ), a AS (
    DELETE FROM orchard_acme_attested_devices WHERE expires_at <= $1 RETURNING 1
  )
  SELECT (SELECT count(*) FROM c)::int AS client_ids,
    (SELECT count(*) FROM a)::int AS attested_devices`;

function toClientId(row: ClientIdRow): AcmeClientIdRecord {
  const r: AcmeClientIdRecord = {
    digest: row.digest,
    enrollmentId: row.enrollment_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
  setIf(r, 'expectedUdid', row.expected_udid);
  setIf(r, 'expectedSerial', row.expected_serial);
  setIf(r, 'accountId', row.account_id);
  setIf(r, 'usedAt', row.used_at);
  return r;
}

function toAttested(row: AttestedRow): AcmeAttestedDeviceRecord {
  const r: AcmeAttestedDeviceRecord = {
    certificateSerial: row.certificate_serial,
    expiresAt: row.expires_at,
  };
  setIf(r, 'serial', row.serial);
  setIf(r, 'udid', row.udid);
  return r;
}

async function putClientId(ctx: PgContext, r: AcmeClientIdRecord): Promise<void> {
  checkId(r.digest, 'digest');
  checkDate(r.createdAt, 'createdAt');
  checkDate(r.expiresAt, 'expiresAt');
  try {
    await run(ctx.pool, INSERT, [
      ...[r.digest, r.enrollmentId, r.expectedUdid ?? null, r.expectedSerial ?? null],
      ...[r.createdAt, r.expiresAt, r.accountId ?? null, r.usedAt ?? null],
    ]);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new TypeError('the ClientIdentifier exists', { cause: error });
    throw error;
  }
}

/** The {@link AcmeClientIdStore} on a pool context (`openPostgresDatabase`'s, or its own). */
export function pgAcmeClientIdStore(ctx: PgContext): AcmeClientIdStore {
  return {
    putClientId: (record) => op(ctx, () => putClientId(ctx, record)),
    claimClientId: (digest, accountId, now) =>
      op(ctx, async () => {
        checkId(accountId, 'accountId');
        checkDate(now, 'now');
        const row = await one<ClientIdRow>(ctx.pool, CLAIM, [accountId, digest, now]);
        return row && toClientId(row);
      }),
    findLiveClientId: (digest, now) =>
      op(ctx, async () => {
        checkDate(now, 'now');
        const row = await one<ClientIdRow>(ctx.pool, LIVE, [digest, now]);
        return row && toClientId(row);
      }),
    useClientId: (digest, accountId, now) =>
      op(ctx, async () => {
        checkDate(now, 'now');
        return (await run(ctx.pool, USE, [now, digest, accountId])) === 1;
      }),
    putAttestedDevice: (r) =>
      op(ctx, async () => {
        checkId(r.certificateSerial, 'certificateSerial');
        checkDate(r.expiresAt, 'expiresAt');
        await run(ctx.pool, PUT_ATTESTED, [
          ...[r.certificateSerial, r.serial ?? null, r.udid ?? null, r.expiresAt],
        ]);
      }),
    findAttestedDevice: (serial) =>
      op(ctx, async () => {
        const row = await one<AttestedRow>(ctx.pool, FIND_ATTESTED, [serial]);
        return row && toAttested(row);
      }),
    purgeClientIds: (now) =>
      op(ctx, async () => {
        checkDate(now, 'now');
        const [row] = await query<{ client_ids: number; attested_devices: number }>(
          ctx.pool,
          PURGE,
          [now],
        );
        return { clientIds: row?.client_ids ?? 0, attestedDevices: row?.attested_devices ?? 0 };
      }),
  };
}

/** Options of {@link openPostgresAcmeClientIdStore}. */
export interface PostgresAcmeClientIdStoreOptions {
  /** `postgres://user@host:port/database`. */
  url: string;
  /** Pool settings. */
  pool?: PgPoolOptions;
}

/**
 * Opens (migrating as needed) the ClientIdentifier store on a pool of its own (it reads no sealed
 * value). Rejects with StorageError when the database cannot be reached or migrated.
 */
export async function openPostgresAcmeClientIdStore(
  options: PostgresAcmeClientIdStoreOptions,
): Promise<AcmeClientIdStore & { close(): Promise<void> }> {
  const { ctx, release } = (
    await openPostgresConnection({ ...options, checkSecrets: false })
  ).part();
  return { ...pgAcmeClientIdStore(ctx), close: release };
}
