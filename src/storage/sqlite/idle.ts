/**
 * SQLite adapter: the facts of an idle command poll in one statement. Whether a certificate still
 * speaks for its device (binding and revocation, read from the database on every call, so a
 * change committed by any connection or process is seen by the next poll), whether the
 * enrollment is enrolled, and whether anything is pending for it.
 */
import { normaliseSerial } from '../../identity/ca/store.js';
import type { SqliteContext } from './db.js';
import { op, opNow, rawStmt } from './db.js';
import { PENDING_STATUSES_SQL } from './migrations.js';

/** What one idle poll's statement reads. */
export interface IdleFacts {
  /** The enrollment row exists and is enrolled. */
  enrolled: boolean;
  /** SHA-256 (hex) of the certificate bound to the device, when one is. */
  boundHash: string | undefined;
  /** The enrollment most recently bound to the presented certificate, when any. */
  hashOwner: string | undefined;
  /** The presented certificate's serial was issued by this database's CA and revoked. */
  revoked: boolean;
  /** A command target of the enrollment is queued, sent or NotNow. */
  pending: boolean;
}

/** The query behind {@link IdleProbe.probeIdle}. */
export interface IdleQuery {
  /** The enrollment the poll is for (a user channel's id for user channels). */
  enrollmentId: string;
  /** The device whose binding is checked (`deviceId` of the enrollment). */
  deviceId: string;
  /** SHA-256 (hex) of the presented certificate's DER. */
  certHash: string;
  /** The presented certificate's serial as hex. */
  serial: string;
}

/** The one-statement idle probe of the SQLite storage. */
export interface IdleProbe {
  /**
   * Reads the {@link IdleFacts} of `query` in one statement, straight from the database (no
   * cache). Rejects with StorageError (503) when the database fails.
   */
  probeIdle(query: IdleQuery): Promise<IdleFacts>;
  /**
   * {@link IdleProbe.probeIdle} answered at once, without a promise (the device path's form).
   * Throws StorageError (503) when the database fails.
   */
  probeIdleNow(query: IdleQuery): IdleFacts;
}

// Five index lookups (positional parameters bind faster than named ones): enrollment by id,
// binding by device, latest binding of the hash, CA record by serial, pending-queue index.
const SQL = `SELECT
  (SELECT enrolled FROM enrollments WHERE id = ?) AS enrolled,
  (SELECT cert_hash FROM cert_bindings WHERE enrollment_id = ?) AS bound_hash,
  (SELECT enrollment_id FROM cert_bindings WHERE cert_hash = ?
     ORDER BY seq DESC LIMIT 1) AS hash_owner,
  (SELECT revoked_at IS NOT NULL FROM orchard_ca_certificates
     WHERE serial_len = ? AND serial = ?) AS revoked,
  EXISTS (SELECT 1 FROM command_targets
     WHERE enrollment_id = ? AND status IN ${PENDING_STATUSES_SQL}) AS pending`;

/** The columns of the statement, read as an array (no object with five keys per poll). */
type Row = [
  enrolled: number | null,
  boundHash: string | null,
  hashOwner: string | null,
  revoked: number | null,
  pending: number,
];

/** The {@link IdleProbe} over `ctx`. */
export function sqliteIdleProbe(ctx: SqliteContext): IdleProbe {
  const read = (query: IdleQuery): IdleFacts => {
    const serial = normaliseSerial(query.serial);
    const row = rawStmt(ctx, SQL).get(
      query.enrollmentId,
      query.deviceId,
      query.certHash,
      serial.length,
      serial,
      query.enrollmentId,
    ) as Row;
    return {
      enrolled: row[0] === 1,
      boundHash: row[1] ?? undefined,
      hashOwner: row[2] ?? undefined,
      revoked: row[3] === 1,
      pending: row[4] === 1,
    };
  };
  return {
    probeIdle: (query) => op(ctx, () => read(query)),
    probeIdleNow: (query) => opNow(ctx, () => read(query)),
  };
}
