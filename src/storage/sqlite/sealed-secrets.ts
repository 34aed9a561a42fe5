/**
 * SQLite adapter: device secrets sealed at rest with a secrets keyring. UnlockTokens are sealed by
 * the adapter; escrowed bootstrap tokens arrive sealed by the core (with the same keyring) and are
 * only re-sealed here on rotation. `secrets_keys` records the fingerprint of every key that may
 * have sealed something, so a wrong or missing key is refused at open instead of failing one
 * device at a time. It is this module's own table (like the CA's), created when absent.
 */
import type Database from 'better-sqlite3';
import type { SecretPurpose, SecretsKeyring } from '../../crypto/secrets-key.js';
import { SecretsError, StorageError } from '../../errors.js';
import type { SqliteContext } from './db.js';
import { bytes, stmt, writeTx } from './db.js';

/** What {@link resealSecrets} re-sealed under the current key. */
export interface ResealResult {
  unlockTokens: number;
  bootstrapTokens: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS secrets_keys (
  key_id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  added_at INTEGER NOT NULL
)`;

function checkKeys(keyring: SecretsKeyring, known: { key_id: number; fingerprint: string }[]) {
  for (const row of known) {
    const fingerprint = keyring.fingerprint(row.key_id);
    if (fingerprint === undefined)
      throw new SecretsError(
        'ERR_SECRETS_KEY_MISMATCH',
        `the key file lacks secrets key ${row.key_id}, which this database's secrets may be sealed with`,
      );
    if (fingerprint !== row.fingerprint)
      throw new SecretsError(
        'ERR_SECRETS_KEY_MISMATCH',
        `secrets key ${row.key_id} of the key file is not the key ${row.key_id} this database was sealed with (fingerprint ${fingerprint}, expected ${row.fingerprint})`,
      );
  }
}

/** Seals every plain-text UnlockToken in place: the migration of a database from before sealing. */
function sealPlaintext(db: Database.Database, keyring: SecretsKeyring): number {
  const rows = db
    .prepare('SELECT id, unlock_token AS t FROM enrollments WHERE unlock_token IS NOT NULL')
    .all() as { id: string; t: Uint8Array }[];
  const update = db.prepare('UPDATE enrollments SET unlock_token = ? WHERE id = ?');
  for (const row of rows) update.run(keyring.seal('unlock-token', row.id, row.t), row.id);
  return rows.length;
}

/**
 * Creates `secrets_keys` and checks the keyring against it. On the first open with a keyring, in
 * one transaction, every plain-text UnlockToken is sealed in place (with `secure_delete`, then a
 * WAL checkpoint, so the old bytes do not linger in free pages or the WAL). Registers the keyring's
 * keys. Throws SecretsError `ERR_SECRETS_KEY_MISMATCH` for a wrong or incomplete keyring, and
 * StorageError when the database holds sealed secrets but no keyring was given.
 */
export function prepareSealedSecrets(
  db: Database.Database,
  keyring: SecretsKeyring | undefined,
  now: number,
): void {
  db.exec(SCHEMA);
  const known = db.prepare('SELECT key_id, fingerprint FROM secrets_keys').all() as {
    key_id: number;
    fingerprint: string;
  }[];
  if (keyring === undefined) {
    if (known.length > 0)
      throw new StorageError(
        'this database seals device secrets at rest; open it with its secrets key (`secrets`)',
      );
    return;
  }
  const first = known.length === 0;
  if (first) db.pragma('secure_delete = ON');
  let sealed = 0;
  db.transaction(() => {
    // Re-read under the write lock: another process may have sealed and registered meanwhile.
    const again = db.prepare('SELECT key_id, fingerprint FROM secrets_keys').all() as typeof known;
    checkKeys(keyring, again);
    if (again.length === 0) sealed = sealPlaintext(db, keyring);
    const register = db.prepare(
      'INSERT OR IGNORE INTO secrets_keys (key_id, fingerprint, added_at) VALUES (?, ?, ?)',
    );
    for (const id of keyring.keyIds) register.run(id, keyring.fingerprint(id), now);
  }).immediate();
  if (first) {
    if (sealed > 0) db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('secure_delete = OFF');
  }
}

/** The value to store for an UnlockToken: sealed when the store has a keyring. */
export function unlockTokenToStore(
  ctx: SqliteContext,
  enrollmentId: string,
  token: Uint8Array | undefined,
): Uint8Array | null {
  if (token === undefined) return null;
  return ctx.secrets === undefined ? token : ctx.secrets.seal('unlock-token', enrollmentId, token);
}

/** A stored UnlockToken opened; throws SecretsError when it does not open for this enrollment. */
export function unlockTokenFromStore(
  ctx: SqliteContext,
  enrollmentId: string,
  stored: Uint8Array,
): Uint8Array {
  return ctx.secrets === undefined
    ? bytes(stored)
    : ctx.secrets.open('unlock-token', enrollmentId, stored);
}

function resealColumn(
  ctx: SqliteContext,
  keyring: SecretsKeyring,
  purpose: SecretPurpose,
  select: string,
  update: string,
): number {
  const rows = stmt(ctx, select).all() as { id: string; v: Uint8Array }[];
  let count = 0;
  for (const row of rows) {
    if (keyring.keyIdOf(row.v) === keyring.currentKeyId) continue;
    const plaintext = keyring.open(purpose, row.id, row.v);
    stmt(ctx, update).run(keyring.seal(purpose, row.id, plaintext), row.id);
    count += 1;
  }
  return count;
}

/**
 * Re-seals every stored device secret not yet under the keyring's current key, in one
 * transaction: all or nothing. Throws TypeError when the store has no keyring, and SecretsError
 * (rolling everything back) when a stored value does not open.
 */
export function resealSecrets(ctx: SqliteContext): ResealResult {
  const keyring = ctx.secrets;
  if (keyring === undefined) throw new TypeError('resealSecrets needs a store opened with secrets');
  return writeTx(ctx, () => ({
    unlockTokens: resealColumn(
      ctx,
      keyring,
      'unlock-token',
      'SELECT id, unlock_token AS v FROM enrollments WHERE unlock_token IS NOT NULL',
      'UPDATE enrollments SET unlock_token = ? WHERE id = ?',
    ),
    bootstrapTokens: resealColumn(
      ctx,
      keyring,
      'bootstrap-token',
      'SELECT enrollment_id AS id, sealed AS v FROM bootstrap_tokens',
      'UPDATE bootstrap_tokens SET sealed = ? WHERE enrollment_id = ?',
    ),
  }));
}
