/**
 * One-time ACME ClientIdentifiers and attested devices in SQLite (migration 12). Every one-time
 * step is one statement: `UPDATE ... WHERE digest = ? AND used_at IS NULL AND expires_at > ? AND
 * (account_id IS NULL OR account_id = ?) RETURNING` binds a value to its first account, `UPDATE
 * ... WHERE ... AND account_id = ?` uses it up, so of two daemons on one file exactly one wins.
 */
import type { AcmeAttestedDeviceRecord, AcmeClientIdRecord, AcmeClientIdStore } from '../ports.js';
import { checkDate, checkId } from '../support.js';
import { openSqliteConnection } from './connection.js';
import { op, setIf, stmt, writeTx, type SqliteContext } from './db.js';

/** A row of `orchard_acme_client_ids`. */
interface ClientIdRow {
  digest: string;
  enrollment_id: string;
  expected_udid: string | null;
  expected_serial: string | null;
  created_at: number;
  expires_at: number;
  account_id: string | null;
  used_at: number | null;
}

/** A row of `orchard_acme_attested_devices`. */
interface AttestedRow {
  certificate_serial: string;
  serial: string | null;
  udid: string | null;
  expires_at: number;
}

const INSERT = `INSERT INTO orchard_acme_client_ids (digest, enrollment_id, expected_udid,
  expected_serial, created_at, expires_at, account_id, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
const CLAIM = `UPDATE orchard_acme_client_ids SET account_id = coalesce(account_id, ?)
  WHERE digest = ? AND used_at IS NULL AND expires_at > ? AND (account_id IS NULL OR account_id = ?)
  RETURNING *`;
const LIVE = `SELECT * FROM orchard_acme_client_ids
  WHERE digest = ? AND used_at IS NULL AND expires_at > ?`;
const USE = `UPDATE orchard_acme_client_ids SET used_at = ?
  WHERE digest = ? AND used_at IS NULL AND expires_at > ? AND account_id = ?`;
const PUT_ATTESTED = `INSERT OR REPLACE INTO orchard_acme_attested_devices
  (certificate_serial, serial, udid, expires_at) VALUES (?, ?, ?, ?)`;

function toClientId(row: ClientIdRow): AcmeClientIdRecord {
  const r: AcmeClientIdRecord = {
    digest: row.digest,
    enrollmentId: row.enrollment_id,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
  };
  setIf(r, 'expectedUdid', row.expected_udid);
  setIf(r, 'expectedSerial', row.expected_serial);
  setIf(r, 'accountId', row.account_id);
  if (row.used_at !== null) r.usedAt = new Date(row.used_at);
  return r;
}

function toAttested(row: AttestedRow): AcmeAttestedDeviceRecord {
  const r: AcmeAttestedDeviceRecord = {
    certificateSerial: row.certificate_serial,
    expiresAt: new Date(row.expires_at),
  };
  setIf(r, 'serial', row.serial);
  setIf(r, 'udid', row.udid);
  return r;
}

function putClientId(ctx: SqliteContext, r: AcmeClientIdRecord): void {
  checkId(r.digest, 'digest');
  checkDate(r.createdAt, 'createdAt');
  checkDate(r.expiresAt, 'expiresAt');
  try {
    stmt(ctx, INSERT).run(
      ...[r.digest, r.enrollmentId, r.expectedUdid ?? null, r.expectedSerial ?? null],
      ...[r.createdAt.getTime(), r.expiresAt.getTime(), r.accountId ?? null],
      r.usedAt?.getTime() ?? null,
    );
  } catch (cause) {
    if ((cause as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true)
      throw new TypeError('the ClientIdentifier exists', { cause });
    throw cause;
  }
}

function purge(ctx: SqliteContext, now: Date) {
  checkDate(now, 'now');
  return writeTx(ctx, () => ({
    clientIds: stmt(ctx, 'DELETE FROM orchard_acme_client_ids WHERE expires_at <= ?').run(
      now.getTime(),
    ).changes,
    attestedDevices: stmt(
      ctx,
      'DELETE FROM orchard_acme_attested_devices WHERE expires_at <= ?',
    ).run(now.getTime()).changes,
  }));
}

/** The {@link AcmeClientIdStore} on a connection context (`openSqliteDatabase`'s `acmeIdentifiers`). */
export function sqliteAcmeClientIdStore(ctx: SqliteContext): AcmeClientIdStore {
  return {
    putClientId: (record) =>
      op(ctx, () => {
        putClientId(ctx, record);
      }),
    claimClientId: (digest, accountId, now) =>
      op(ctx, () => {
        checkId(accountId, 'accountId');
        checkDate(now, 'now');
        const row = stmt(ctx, CLAIM).get(accountId, digest, now.getTime(), accountId) as
          ClientIdRow | undefined;
        return row && toClientId(row);
      }),
    findLiveClientId: (digest, now) =>
      op(ctx, () => {
        checkDate(now, 'now');
        const row = stmt(ctx, LIVE).get(digest, now.getTime()) as ClientIdRow | undefined;
        return row && toClientId(row);
      }),
    useClientId: (digest, accountId, now) =>
      op(ctx, () => {
        checkDate(now, 'now');
        const t = now.getTime();
        return stmt(ctx, USE).run(t, digest, t, accountId).changes === 1;
      }),
    putAttestedDevice: (r) =>
      op(ctx, () => {
        checkId(r.certificateSerial, 'certificateSerial');
        checkDate(r.expiresAt, 'expiresAt');
        stmt(ctx, PUT_ATTESTED).run(
          ...[r.certificateSerial, r.serial ?? null, r.udid ?? null, r.expiresAt.getTime()],
        );
      }),
    findAttestedDevice: (serial) =>
      op(ctx, () => {
        const row = stmt(
          ctx,
          'SELECT * FROM orchard_acme_attested_devices WHERE certificate_serial = ?',
        ).get(serial) as AttestedRow | undefined;
        return row && toAttested(row);
      }),
    purgeClientIds: (now) => op(ctx, () => purge(ctx, now)),
  };
}

/** Options of {@link openSqliteAcmeClientIdStore}. */
export interface SqliteAcmeClientIdStoreOptions {
  /** Database file (created when absent) or `:memory:`. */
  path: string;
  /** How long a write waits for another process's lock (ms); default 5000. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating and migrating as needed) the ClientIdentifier store of a SQLite file on a
 * connection of its own. Throws StorageError when the file cannot be opened or migrated.
 */
export function openSqliteAcmeClientIdStore(
  options: SqliteAcmeClientIdStoreOptions,
): AcmeClientIdStore & { close(): void } {
  const { ctx, release } = openSqliteConnection({
    ...options,
    checkSecrets: false,
    fileMode: null,
  }).part();
  return { ...sqliteAcmeClientIdStore(ctx), close: release };
}
