/**
 * `orchard db copy`: moving an installation's tables into a PostgreSQL database (migrated to this
 * code's schema) in one transaction, converting each value by the target column's type (integer
 * milliseconds to `timestamptz`, 0/1 to `boolean`, JSON text to `jsonb`), then reading every
 * table back to check that each row arrived unchanged. Sealed values move as they are: they open
 * with the same secrets key file.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { StorageError } from '../../errors.js';
import type { TableCopyReport, TableSource } from '../copy-format.js';
import { openPostgresConnection } from './connection.js';

/** Tables a fresh database already has rows in (seeds and bookkeeping), replaced by the copy. */
const SEEDED = new Set([
  'orchard_groups',
  'orchard_group_settings',
  'orchard_principals',
  'orchard_management_revision',
  'orchard_schema_migrations',
  'secrets_keys',
  'secrets_sealed',
]);

const BATCH = 2_000;

interface Column {
  name: string;
  type: string;
  identity: boolean;
}

interface TargetTable {
  name: string;
  columns: Map<string, Column>;
  dependsOn: Set<string>;
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function targetTables(client: pg.PoolClient): Promise<Map<string, TargetTable>> {
  const columns = await client.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    udt_name: string;
    is_identity: string;
  }>(
    `SELECT table_name, column_name, data_type, udt_name, is_identity
       FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  const tables = new Map<string, TargetTable>();
  for (const c of columns.rows) {
    let table = tables.get(c.table_name);
    if (table === undefined) {
      table = { name: c.table_name, columns: new Map(), dependsOn: new Set() };
      tables.set(c.table_name, table);
    }
    const type = c.data_type === 'ARRAY' ? `${c.udt_name.replace(/^_/, '')}[]` : c.udt_name;
    table.columns.set(c.column_name, {
      name: c.column_name,
      type,
      identity: c.is_identity === 'YES',
    });
  }
  const fks = await client.query<{ child: string; parent: string }>(
    `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE c.contype = 'f' AND n.nspname = 'public'`,
  );
  for (const fk of fks.rows) {
    const child = tables.get(fk.child.replace(/"/g, ''));
    if (child !== undefined && fk.child !== fk.parent)
      child.dependsOn.add(fk.parent.replace(/"/g, ''));
  }
  return tables;
}

/** The tables in an order where every table comes after those it references. */
function insertOrder(tables: Map<string, TargetTable>, names: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const parent of tables.get(name)?.dependsOn ?? [])
      if (names.includes(parent)) visit(parent);
    out.push(name);
  };
  for (const name of [...names].sort()) visit(name);
  return out;
}

/** `value` (parsed JSON) with U+0000 in every key and string replaced by U+FFFD. */
function jsonWithoutNul(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD');
  if (Array.isArray(value)) return value.map(jsonWithoutNul);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k.replaceAll('\u0000', '\uFFFD'),
      jsonWithoutNul(v),
    ]),
  );
}

/**
 * A source value as the target column takes it. PostgreSQL cannot hold U+0000 in text or jsonb:
 * it becomes U+FFFD, as the adapter stores it from devices (the check compares the same way).
 */
function toTarget(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && (type === 'jsonb' || type === 'json'))
    return value.includes('\\u0000') ? JSON.stringify(jsonWithoutNul(JSON.parse(value))) : value;
  if (typeof value === 'string' && type !== 'bytea') return value.replaceAll('\u0000', '\uFFFD');
  switch (type) {
    case 'timestamptz':
    case 'timestamp':
      return typeof value === 'number' ? new Date(value) : value;
    case 'bool':
      return typeof value === 'number' || typeof value === 'bigint' ? Number(value) !== 0 : value;
    case 'bytea':
      // SQLite keeps some byte columns as TEXT when nothing is sealed (outbox payloads).
      return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    default:
      return value;
  }
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** One value, source or target, in the form both compare in. */
function normalised(value: unknown, type: string, fromSource: boolean): string {
  if (value === null || value === undefined) return '\u0000';
  if (value instanceof Date) return String(value.getTime());
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (type === 'bytea' && typeof value === 'string')
    return Buffer.from(value, 'utf8').toString('hex');
  if (type === 'bool')
    return (typeof value === 'boolean' ? value : Number(value) !== 0) ? 't' : 'f';
  if (type === 'jsonb' || type === 'json') {
    const parsed: unknown =
      fromSource && typeof value === 'string' ? jsonWithoutNul(JSON.parse(value)) : value;
    return canonicalJson(parsed);
  }
  if (typeof value === 'number' || typeof value === 'bigint') return String(Number(value));
  if (type.startsWith('int') || type === 'numeric' || type.startsWith('float'))
    return String(Number(value));
  return fromSource ? (value as string).replaceAll('\u0000', '\uFFFD') : (value as string);
}

/** A multiset digest: the sum mod 2^128 of each row's SHA-256 prefix, and the row count. */
class RowDigest {
  private sum = 0n;
  count = 0;
  add(values: readonly string[]): void {
    const digest = createHash('sha256').update(JSON.stringify(values)).digest();
    this.sum =
      (this.sum + BigInt(`0x${digest.subarray(0, 16).toString('hex')}`)) & ((1n << 128n) - 1n);
    this.count += 1;
  }
  equals(other: RowDigest): boolean {
    return this.sum === other.sum && this.count === other.count;
  }
}

function checkColumns(source: TableSource, target: TargetTable | undefined): TargetTable {
  if (target === undefined)
    throw new StorageError(`the target has no table ${source.table}: is it this Orchard's schema?`);
  const missing = source.columns.filter((c) => !target.columns.has(c));
  if (missing.length > 0)
    throw new StorageError(
      `the target's ${source.table} lacks column(s) ${missing.join(', ')}: is it this Orchard's schema?`,
    );
  return target;
}

async function insertTable(
  client: pg.PoolClient,
  source: TableSource,
  target: TargetTable,
): Promise<RowDigest> {
  const columns = source.columns.map((name) => target.columns.get(name) as Column);
  const list = columns.map((c) => quote(c.name)).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const text = `INSERT INTO ${quote(source.table)} (${list}) SELECT * FROM unnest(${arrays})`;
  const digest = new RowDigest();
  for (const batch of source.batches(BATCH)) {
    const params = columns.map(() => [] as unknown[]);
    for (const row of batch) {
      digest.add(row.map((v, i) => normalised(v, (columns[i] as Column).type, true)));
      row.forEach((v, i) =>
        (params[i] as unknown[]).push(toTarget(v, (columns[i] as Column).type)),
      );
    }
    await client.query(text, params);
  }
  for (const c of columns.filter((col) => col.identity)) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${quote(c.name)}) FROM ${quote(source.table)}), 0) + 1, false)`,
      [source.table, c.name],
    );
  }
  return digest;
}

async function readBack(
  client: pg.PoolClient,
  source: TableSource,
  target: TargetTable,
): Promise<RowDigest> {
  const columns = source.columns.map((name) => target.columns.get(name) as Column);
  const digest = new RowDigest();
  const cursorName = `orchard_copy_check`;
  await client.query(
    `DECLARE ${cursorName} NO SCROLL CURSOR FOR SELECT ${columns.map((c) => quote(c.name)).join(', ')} FROM ${quote(source.table)}`,
  );
  for (;;) {
    const result = await client.query({
      text: `FETCH ${BATCH} FROM ${cursorName}`,
      rowMode: 'array',
    });
    for (const row of result.rows as unknown[][])
      digest.add(row.map((v, i) => normalised(v, (columns[i] as Column).type, false)));
    if (result.rows.length < BATCH) break;
  }
  await client.query(`CLOSE ${cursorName}`);
  return digest;
}

/** Options of {@link copyIntoPostgres}. */
export interface CopyIntoPostgresOptions {
  /** The target database (migrated to this code's schema first). */
  url: string;
  /** Replaces the data of a target that already holds some (default: refuse). */
  replace?: boolean;
  /** Called after each table is written and checked. */
  onTable?: (report: TableCopyReport) => void;
}

/**
 * Copies `sources` into the PostgreSQL database at `url` in one transaction and checks every row
 * arrived; a failed check rolls everything back. Rejects with StorageError when the target holds
 * data (unless `replace`), lacks a table or column of the source, or a row does not read back
 * as written.
 */
export async function copyIntoPostgres(
  sources: readonly TableSource[],
  options: CopyIntoPostgresOptions,
): Promise<TableCopyReport[]> {
  const connection = await openPostgresConnection({ url: options.url, checkSecrets: false });
  const client = await connection.pool.connect();
  try {
    const tables = await targetTables(client);
    const byName = new Map(sources.map((s) => [s.table, s]));
    for (const source of sources) checkColumns(source, tables.get(source.table));
    if (options.replace !== true) {
      for (const name of tables.keys()) {
        if (SEEDED.has(name)) continue;
        const { rows } = await client.query<{ n: number }>(
          `SELECT COUNT(*)::int AS n FROM (SELECT 1 FROM ${quote(name)} LIMIT 1) t`,
        );
        if ((rows[0]?.n ?? 0) > 0)
          throw new StorageError(
            `the target database already holds data (${name}); copy into an empty database, or pass --replace`,
          );
      }
    }
    const reports: TableCopyReport[] = [];
    await client.query('BEGIN');
    try {
      const all = [...tables.keys()].filter((t) => t !== 'orchard_schema_migrations');
      if (all.length > 0)
        await client.query(`TRUNCATE ${all.map(quote).join(', ')} RESTART IDENTITY CASCADE`);
      for (const name of insertOrder(tables, [...byName.keys()])) {
        const source = byName.get(name) as TableSource;
        const target = tables.get(name) as TargetTable;
        const written = await insertTable(client, source, target);
        const read = await readBack(client, source, target);
        const report = {
          table: name,
          source: written.count,
          target: read.count,
          verified: written.equals(read),
        };
        reports.push(report);
        options.onTable?.(report);
        if (!report.verified)
          throw new StorageError(
            `${name}: ${String(read.count)} of ${String(written.count)} rows read back, or a value changed; nothing was copied`,
          );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    return reports;
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new StorageError('the copy into PostgreSQL failed; nothing was copied', { cause: error });
  } finally {
    client.release();
    await connection.part().release();
  }
}

/**
 * `orchard db migrate` on PostgreSQL: brings the database at `url` to this code's schema and
 * resolves the versions before and after. Rejects with StorageError as opening does.
 */
export async function migratePostgres(url: string): Promise<{ from: number; to: number }> {
  const connection = await openPostgresConnection({ url, checkSecrets: false });
  await connection.part().release();
  return connection.migration;
}
