/**
 * Device secrets sealed at rest in PostgreSQL with a secrets keyring, as the SQLite adapter seals
 * them (same purposes, same owners: sealed bytes copied from SQLite open here). `secrets_keys`
 * records the fingerprint of every key that may have sealed something, so a wrong or missing key
 * is refused at open instead of failing one device at a time; `secrets_sealed` records which kinds
 * of value were sealed in place, so values stored plain (the database was used without a keyring,
 * or copied from an unsealed SQLite file) are sealed exactly once per kind, on the first open
 * with a keyring. `resealSecrets` re-seals every sealed column of every area under the current
 * key. Owner: area A.
 */
import type pg from 'pg';
import type { SecretPurpose, SecretsKeyring } from '../../crypto/secrets-key.js';
import { SecretsError, StorageError } from '../../errors.js';
import {
  libraryProfileOwner,
  removalPasswordOwner,
  resultOwner,
  type ResealResult,
} from '../sealed-owners.js';
import { one, query, run, tx, type PgContext, type Queryable } from './db.js';

export type { ResealResult };

type Row = Record<string, unknown> & { v: Buffer | string };

/** A column of sealed values: where it is, what identifies a row, what a value is bound to. */
interface SealedColumn {
  purpose: SecretPurpose;
  /** Where `resealSecrets` counts it (shared files have no count in {@link ResealResult} yet). */
  result: keyof ResealResult | undefined;
  /** False for values that arrive sealed (bootstrap tokens): never plain text here. */
  sealedHere: boolean;
  table: string;
  column: string;
  /** The row's key (primary key columns) and their PostgreSQL types, in key order. */
  keys: readonly (readonly [name: string, type: 'text' | 'bigint' | 'integer'])[];
  /** Further columns the owner is made of. */
  extra: readonly string[];
  owner(row: Row): string;
}

/**
 * SQLite's `COLUMNS` (src/storage/sqlite/sealed-secrets.ts) with PostgreSQL's row keys, and the
 * shared files only PostgreSQL has.
 */
const COLUMNS: readonly SealedColumn[] = [
  {
    purpose: 'unlock-token',
    result: 'unlockTokens',
    sealedHere: true,
    table: 'enrollments',
    column: 'unlock_token',
    keys: [['id', 'text']],
    extra: [],
    owner: (r) => r.id as string,
  },
  {
    purpose: 'bootstrap-token',
    result: 'bootstrapTokens',
    sealedHere: false,
    table: 'bootstrap_tokens',
    column: 'sealed',
    keys: [['enrollment_id', 'text']],
    extra: [],
    owner: (r) => r.enrollment_id as string,
  },
  {
    purpose: 'command',
    result: 'commands',
    sealedHere: true,
    table: 'commands',
    column: 'body',
    keys: [['uuid', 'text']],
    extra: [],
    owner: (r) => r.uuid as string,
  },
  {
    purpose: 'command-result',
    result: 'commandResults',
    sealedHere: true,
    table: 'command_targets',
    column: 'result',
    keys: [['seq', 'bigint']],
    extra: ['command_uuid', 'enrollment_id'],
    owner: (r) => resultOwner(r.command_uuid as string, r.enrollment_id as string),
  },
  {
    purpose: 'webhook-event',
    result: 'webhookEvents',
    sealedHere: true,
    table: 'outbox',
    column: 'payload',
    keys: [['seq', 'bigint']],
    extra: ['id'],
    owner: (r) => r.id as string,
  },
  {
    purpose: 'library-profile',
    result: 'libraryProfiles',
    sealedHere: true,
    table: 'orchard_library_profile_versions',
    column: 'content',
    keys: [
      ['profile_id', 'text'],
      ['version', 'integer'],
    ],
    extra: [],
    owner: (r) => libraryProfileOwner(r.profile_id as string, r.version as number),
  },
  {
    purpose: 'enrollment-link',
    result: 'enrollmentLinks',
    sealedHere: true,
    table: 'orchard_admin_enrollment_tokens',
    column: 'secret',
    keys: [['id', 'text']],
    extra: [],
    owner: (r) => r.id as string,
  },
  {
    purpose: 'removal-password',
    result: 'removalPasswords',
    sealedHere: true,
    table: 'orchard_policy_assignments',
    column: 'removal_password',
    keys: [
      ['policy_id', 'text'],
      ['profile_id', 'text'],
    ],
    extra: [],
    owner: (r) => removalPasswordOwner(r.policy_id as string, r.profile_id as string),
  },
  {
    // The CA's and the signing identity's files every daemon shares (migration 2), sealed by
    // `sharedFiles` (never plain), bound to the file's name.
    purpose: 'shared-file',
    result: undefined,
    sealedHere: false,
    table: 'orchard_shared_files',
    column: 'content',
    keys: [['name', 'text']],
    extra: [],
    owner: (r) => r.name as string,
  },
];

/** Rows read and rewritten per statement. */
const PAGE = 1000;

/** Bytes of the smallest sealed value: version, key id, nonce, tag (crypto/secrets-key.ts). */
const SEALED_MIN = 2 + 12 + 16;

/**
 * One page of a column's non-null values in key order, after `after` (the previous page's last
 * key) when given; with `stale`, only values not sealed under key `$1`.
 */
function selectSql(column: SealedColumn, stale: boolean, after: boolean): string {
  const keys = column.keys.map(([name]) => name);
  const v = column.column;
  const where = [`${v} IS NOT NULL`];
  let n = 0;
  if (stale) {
    n += 1;
    where.push(
      `NOT (length(${v}) >= ${SEALED_MIN} AND get_byte(${v}, 0) = 1 AND get_byte(${v}, 1) = $${n})`,
    );
  }
  if (after) {
    const params = keys.map(() => `$${++n}`);
    where.push(`(${keys.join(', ')}) > (${params.join(', ')})`);
  }
  return `SELECT ${[...keys, ...column.extra, `${v} AS v`].join(', ')} FROM ${column.table}
    WHERE ${where.join(' AND ')} ORDER BY ${keys.join(', ')} LIMIT ${PAGE}`;
}

/**
 * Rewrites a page of values in one statement, each only if it still holds the bytes read (a
 * value another daemon changed meanwhile is left as that daemon wrote it).
 */
function updateSql(column: SealedColumn): string {
  const keys = column.keys.map(([name]) => name);
  const arrays = column.keys.map(([, type], i) => `$${i + 1}::${type}[]`);
  const n = keys.length;
  const match = keys.map((k) => `t.${k} = v.${k}`).join(' AND ');
  return `UPDATE ${column.table} t SET ${column.column} = v.new_value
    FROM unnest(${arrays.join(', ')}, $${n + 1}::bytea[], $${n + 2}::bytea[])
      AS v (${keys.join(', ')}, old_value, new_value)
    WHERE ${match} AND t.${column.column} = v.old_value`;
}

const asBytes = (v: Buffer | string): Buffer =>
  typeof v === 'string' ? Buffer.from(v, 'utf8') : v;

/**
 * Replaces every value of `column` (with `staleFor`, only those not sealed under that key) with
 * `next(row, value)`, page by page; resolves how many rows it rewrote.
 */
async function rewriteColumn(
  on: Queryable,
  column: SealedColumn,
  staleFor: number | undefined,
  next: (row: Row, value: Buffer) => Uint8Array,
): Promise<number> {
  let after: unknown[] | undefined;
  let count = 0;
  for (;;) {
    const values = [...(staleFor === undefined ? [] : [staleFor]), ...(after ?? [])];
    const sql = selectSql(column, staleFor !== undefined, after !== undefined);
    const rows = await query<Row>(on, sql, values);
    const last = rows.at(-1);
    if (last === undefined) return count;
    const keys = column.keys.map(([name]) => rows.map((row) => row[name]));
    const old = rows.map((row) => asBytes(row.v));
    const fresh = rows.map((row, i) => Buffer.from(next(row, old[i] as Buffer)));
    count += await run(on, updateSql(column), [...keys, old, fresh]);
    if (rows.length < PAGE) return count;
    after = column.keys.map(([name]) => last[name]);
  }
}

/** Whether the column's table exists (a schema part not yet present is skipped, kind unmarked). */
async function present(on: Queryable, column: SealedColumn): Promise<boolean> {
  const row = await one<{ p: boolean }>(on, 'SELECT to_regclass($1) IS NOT NULL AS p', [
    column.table,
  ]);
  return row?.p === true;
}

interface KnownKey {
  key_id: number;
  fingerprint: string;
}

function checkKeys(keyring: SecretsKeyring, known: readonly KnownKey[]): void {
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

/** Seals in place every value of the kinds not yet sealed (plain values from before). */
async function sealPlaintext(
  client: pg.PoolClient,
  keyring: SecretsKeyring,
  now: Date,
  keyed: boolean,
): Promise<void> {
  const rows = await query<{ purpose: string }>(client, 'SELECT purpose FROM secrets_sealed');
  const done = new Set(rows.map((r) => r.purpose));
  // A database keyed before `secrets_sealed` existed (an Orchard 0.1 SQLite file, copied) had its
  // UnlockTokens, and only those, sealed.
  if (done.size === 0 && keyed) done.add('unlock-token');
  for (const column of COLUMNS) {
    if (!column.sealedHere || done.has(column.purpose)) continue;
    if (!(await present(client, column))) continue;
    await rewriteColumn(client, column, undefined, (row, value) =>
      keyring.seal(column.purpose, column.owner(row), value),
    );
    await run(
      client,
      'INSERT INTO secrets_sealed (purpose, sealed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [column.purpose, now],
    );
  }
}

/** Serializes the keyring checks of daemons opening the database at once. */
const LOCK = "SELECT pg_advisory_xact_lock(hashtext('orchard-secrets'))";

/**
 * Checks `keyring` against the database at open (records its keys on first use; seals in place,
 * once per kind, values stored plain before); rejects with SecretsError
 * `ERR_SECRETS_KEY_MISMATCH` when values were sealed with a key it lacks, or StorageError when the
 * database holds sealed values and no keyring is given.
 */
export async function prepareSealedSecrets(
  pool: pg.Pool,
  keyring: SecretsKeyring | undefined,
  now: Date,
): Promise<void> {
  if (keyring === undefined) {
    const keyed = await one(pool, 'SELECT 1 FROM secrets_keys LIMIT 1');
    if (keyed !== undefined)
      throw new StorageError(
        'this database seals device secrets at rest; open it with its secrets key (`secrets`)',
      );
    return;
  }
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query(LOCK);
    const known = await query<KnownKey>(client, 'SELECT key_id, fingerprint FROM secrets_keys');
    checkKeys(keyring, known);
    await sealPlaintext(client, keyring, now, known.length > 0);
    const register = `INSERT INTO secrets_keys (key_id, fingerprint, added_at) VALUES ($1, $2, $3)
      ON CONFLICT (key_id) DO NOTHING`;
    for (const id of keyring.keyIds)
      await run(client, register, [id, keyring.fingerprint(id), now]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** The value to store for a secret of `purpose` bound to `owner`: sealed when the store has a keyring. */
export function toStore(
  ctx: PgContext,
  purpose: SecretPurpose,
  owner: string,
  value: Uint8Array,
): Uint8Array {
  return ctx.secrets === undefined ? value : ctx.secrets.seal(purpose, owner, value);
}

/** The plain value of a stored secret (opened when the store has a keyring). */
export function fromStore(
  ctx: PgContext,
  purpose: SecretPurpose,
  owner: string,
  stored: Uint8Array,
): Uint8Array {
  return ctx.secrets === undefined
    ? new Uint8Array(stored)
    : ctx.secrets.open(purpose, owner, stored);
}

/**
 * Re-seals every sealed column's values not under the current key, in one transaction; rejects
 * with TypeError without a keyring, SecretsError (changing nothing) when a value does not open.
 */
export async function resealSecrets(ctx: PgContext): Promise<ResealResult> {
  const keyring = ctx.secrets;
  if (keyring === undefined) throw new TypeError('resealSecrets needs a store opened with secrets');
  return tx(ctx, async (client) => {
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
    for (const column of COLUMNS) {
      if (!(await present(client, column))) continue;
      const count = await rewriteColumn(client, column, keyring.currentKeyId, (row, v) => {
        const owner = column.owner(row);
        return keyring.seal(column.purpose, owner, keyring.open(column.purpose, owner, v));
      });
      if (column.result !== undefined) result[column.result] = count;
    }
    return result;
  });
}
