/**
 * SQLite adapter: device secrets sealed at rest with a secrets keyring. The adapter seals
 * UnlockTokens, command bodies (a ClearPasscode carries the UnlockToken, others PINs and
 * passwords), command results (recovery keys, bypass codes) and webhook event payloads (the
 * `nanomdm` format carries raw check-ins, UnlockTokens and bootstrap tokens included); escrowed
 * bootstrap tokens arrive sealed by the core with the same keyring and are only re-sealed here on
 * rotation.
 *
 * Two tables of this module's own (like the CA's), created when absent: `secrets_keys` records
 * the fingerprint of every key that may have sealed something, so a wrong or missing key is
 * refused at open instead of failing one device at a time; `secrets_sealed` records which kinds
 * of value were sealed in place, so a database from before sealing is migrated exactly once per
 * kind, and a kind added later is migrated on its first open.
 */
import type Database from 'better-sqlite3';
import type { SecretPurpose, SecretsKeyring } from '../../crypto/secrets-key.js';
import { SecretsError, StorageError } from '../../errors.js';
import type { SqliteContext } from './db.js';
import { bytes, writeTx } from './db.js';

type Row = Record<string, unknown> & { v: Uint8Array };

/** A column of sealed values: how to read it, what each value is bound to, how to rewrite it. */
interface SealedColumn {
  purpose: SecretPurpose;
  result: keyof ResealResult;
  /** False for values that arrive sealed (bootstrap tokens): never plain text here. */
  sealedHere: boolean;
  select: string;
  update: string;
  owner(row: Row): string;
  key(row: Row): unknown;
}

import {
  libraryProfileOwner,
  removalPasswordOwner,
  resultOwner,
  type ResealResult,
} from '../sealed-owners.js';

export { libraryProfileOwner, removalPasswordOwner, resultOwner, type ResealResult };

const COLUMNS: readonly SealedColumn[] = [
  {
    purpose: 'unlock-token',
    result: 'unlockTokens',
    sealedHere: true,
    select: 'SELECT id AS k, unlock_token AS v FROM enrollments WHERE unlock_token IS NOT NULL',
    update: 'UPDATE enrollments SET unlock_token = ? WHERE id = ?',
    owner: (r) => r.k as string,
    key: (r) => r.k,
  },
  {
    purpose: 'bootstrap-token',
    result: 'bootstrapTokens',
    sealedHere: false,
    select: 'SELECT enrollment_id AS k, sealed AS v FROM bootstrap_tokens',
    update: 'UPDATE bootstrap_tokens SET sealed = ? WHERE enrollment_id = ?',
    owner: (r) => r.k as string,
    key: (r) => r.k,
  },
  {
    purpose: 'command',
    result: 'commands',
    sealedHere: true,
    select: 'SELECT uuid AS k, body AS v FROM commands',
    update: 'UPDATE commands SET body = ? WHERE uuid = ?',
    owner: (r) => r.k as string,
    key: (r) => r.k,
  },
  {
    purpose: 'command-result',
    result: 'commandResults',
    sealedHere: true,
    select: `SELECT seq AS k, command_uuid AS u, enrollment_id AS e, result AS v
      FROM command_targets WHERE result IS NOT NULL`,
    update: 'UPDATE command_targets SET result = ? WHERE seq = ?',
    owner: (r) => resultOwner(r.u as string, r.e as string),
    key: (r) => r.k,
  },
  {
    // Payloads are TEXT while plain and BLOB once sealed; CAST reads both as bytes.
    purpose: 'webhook-event',
    result: 'webhookEvents',
    sealedHere: true,
    select: 'SELECT seq AS k, id AS i, CAST(payload AS BLOB) AS v FROM outbox',
    update: 'UPDATE outbox SET payload = ? WHERE seq = ?',
    owner: (r) => r.i as string,
    key: (r) => r.k,
  },
  {
    purpose: 'library-profile',
    result: 'libraryProfiles',
    sealedHere: true,
    select: `SELECT rowid AS k, profile_id AS p, version AS n, content AS v
      FROM orchard_library_profile_versions`,
    update: 'UPDATE orchard_library_profile_versions SET content = ? WHERE rowid = ?',
    owner: (r) => libraryProfileOwner(r.p as string, r.n as number),
    key: (r) => r.k,
  },
  {
    // The kept secret of a personal or generic link, bound to the link's id.
    purpose: 'enrollment-link',
    result: 'enrollmentLinks',
    sealedHere: true,
    select: `SELECT id AS k, secret AS v FROM orchard_admin_enrollment_tokens
      WHERE secret IS NOT NULL`,
    update: 'UPDATE orchard_admin_enrollment_tokens SET secret = ? WHERE id = ?',
    owner: (r) => r.k as string,
    key: (r) => r.k,
  },
  {
    // The removal password of a with-authorization assignment, bound to its policy and profile.
    purpose: 'removal-password',
    result: 'removalPasswords',
    sealedHere: true,
    select: `SELECT rowid AS k, policy_id AS p, profile_id AS f, removal_password AS v
      FROM orchard_policy_assignments WHERE removal_password IS NOT NULL`,
    update: 'UPDATE orchard_policy_assignments SET removal_password = ? WHERE rowid = ?',
    owner: (r) => removalPasswordOwner(r.p as string, r.f as string),
    key: (r) => r.k,
  },
];

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

/** Seals in place every value of the kinds not yet sealed (plain text from before); the count. */
function sealPlaintext(db: Database.Database, keyring: SecretsKeyring, now: number): number {
  const done = new Set(
    (db.prepare('SELECT purpose FROM secrets_sealed').all() as { purpose: string }[]).map(
      (r) => r.purpose,
    ),
  );
  // A database keyed before `secrets_sealed` existed had its UnlockTokens, and only those, sealed.
  if (done.size === 0 && knownKeys(db).length > 0) done.add('unlock-token');
  const mark = db.prepare('INSERT INTO secrets_sealed (purpose, sealed_at) VALUES (?, ?)');
  let sealed = 0;
  for (const column of COLUMNS) {
    if (!column.sealedHere || done.has(column.purpose)) continue;
    const update = db.prepare(column.update);
    for (const row of db.prepare(column.select).all() as Row[]) {
      update.run(keyring.seal(column.purpose, column.owner(row), row.v), column.key(row));
      sealed += 1;
    }
    mark.run(column.purpose, now);
  }
  return sealed;
}

function knownKeys(db: Database.Database): { key_id: number; fingerprint: string }[] {
  return db.prepare('SELECT key_id, fingerprint FROM secrets_keys').all() as {
    key_id: number;
    fingerprint: string;
  }[];
}

/**
 * Checks the keyring against the keys the database was sealed with (the `secrets_keys` table,
 * created by migration 4). With a keyring, in one transaction, every plain-text value of a kind not yet sealed is sealed in place (with
 * `secure_delete` on, then a WAL checkpoint, so the old bytes do not linger in free pages or the
 * WAL), and the keyring's keys are registered. Throws SecretsError `ERR_SECRETS_KEY_MISMATCH`
 * for a wrong or incomplete keyring, and StorageError when the database holds sealed secrets
 * but no keyring was given.
 */
export function prepareSealedSecrets(
  db: Database.Database,
  keyring: SecretsKeyring | undefined,
  now: number,
): void {
  if (keyring === undefined) {
    if (knownKeys(db).length > 0)
      throw new StorageError(
        'this database seals device secrets at rest; open it with its secrets key (`secrets`)',
      );
    return;
  }
  db.pragma('secure_delete = ON');
  try {
    const sealed = db
      .transaction(() => {
        checkKeys(keyring, knownKeys(db));
        const count = sealPlaintext(db, keyring, now);
        const register = db.prepare(
          'INSERT OR IGNORE INTO secrets_keys (key_id, fingerprint, added_at) VALUES (?, ?, ?)',
        );
        for (const id of keyring.keyIds) register.run(id, keyring.fingerprint(id), now);
        return count;
      })
      .immediate();
    if (sealed > 0) db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.pragma('secure_delete = OFF');
  }
}

/** The value to store for a secret of `purpose`: sealed when the store has a keyring. */
export function toStore(
  ctx: SqliteContext,
  purpose: SecretPurpose,
  owner: string,
  value: Uint8Array,
): Uint8Array {
  return ctx.secrets === undefined ? value : ctx.secrets.seal(purpose, owner, value);
}

/** A stored secret opened; throws SecretsError when it does not open for this owner. */
export function fromStore(
  ctx: SqliteContext,
  purpose: SecretPurpose,
  owner: string,
  stored: Uint8Array,
): Uint8Array {
  return ctx.secrets === undefined ? bytes(stored) : ctx.secrets.open(purpose, owner, stored);
}

/** The value to store for an UnlockToken (`null` when absent). */
export function unlockTokenToStore(
  ctx: SqliteContext,
  enrollmentId: string,
  token: Uint8Array | undefined,
): Uint8Array | null {
  return token === undefined ? null : toStore(ctx, 'unlock-token', enrollmentId, token);
}

/** A stored UnlockToken opened; throws SecretsError when it does not open for this enrollment. */
export function unlockTokenFromStore(
  ctx: SqliteContext,
  enrollmentId: string,
  stored: Uint8Array,
): Uint8Array {
  return fromStore(ctx, 'unlock-token', enrollmentId, stored);
}

function resealColumn(ctx: SqliteContext, keyring: SecretsKeyring, column: SealedColumn): number {
  const update = ctx.db.prepare(column.update);
  let count = 0;
  for (const row of ctx.db.prepare(column.select).all() as Row[]) {
    if (keyring.keyIdOf(row.v) === keyring.currentKeyId) continue;
    const owner = column.owner(row);
    const plaintext = keyring.open(column.purpose, owner, row.v);
    update.run(keyring.seal(column.purpose, owner, plaintext), column.key(row));
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
  return writeTx(ctx, () => {
    const result: ResealResult = {
      unlockTokens: 0,
      bootstrapTokens: 0,
      commands: 0,
      commandResults: 0,
      webhookEvents: 0,
      libraryProfiles: 0,
      enrollmentLinks: 0,
      removalPasswords: 0,
    };
    for (const column of COLUMNS) result[column.result] = resealColumn(ctx, keyring, column);
    return result;
  });
}
