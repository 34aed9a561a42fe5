/**
 * Kept enrollment-link secrets at rest in PostgreSQL: sealed with the secrets key (purpose
 * `enrollment-link`, bound to the link id) as SQLite seals them, so a sealed value copied from a
 * SQLite file opens here, and a value moved to another link does not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { createSecretsKeyring, SecretsError } from '../../src/index.js';
import { openPostgresDatabase } from '../../src/storage/postgres/index.js';
import { openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import type { AdminStorage } from '../../src/storage/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const KEY = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(9) }]);
const SECRET = 'Link-Secret-Of-The-Generic-Link-0123';
const dir = mkdtempSync(join(tmpdir(), 'orchard-pg-links-sealed-'));
let db: TestDatabase;

/** Stores a generic and a personal link with kept secrets; their ids. */
async function store(admin: AdminStorage): Promise<[string, string]> {
  const generic = await admin.createEnrollmentToken({
    ...{ hash: 'hg', singleUse: false, kind: 'generic', groupId: 'global' },
    secret: `${SECRET}-g`,
  });
  const personal = await admin.createEnrollmentToken({
    ...{ hash: 'hp', singleUse: false, kind: 'personal', userId: 'usr_a' },
    secret: `${SECRET}-p`,
  });
  return [generic.id, personal.id];
}

beforeAll(async () => {
  db = await createTestDatabase('admin_sealed');
});

beforeEach(async () => {
  await db.reset();
});

afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kept enrollment-link secrets in PostgreSQL', () => {
  test('ok/sealed in the database, plain through the store', async () => {
    const pg = await openPostgresDatabase({ url: db.url, secrets: KEY });
    try {
      const [g, p] = await store(pg.admin);
      const raw = await db.query<{ secret: Buffer }>(
        'SELECT secret FROM orchard_admin_enrollment_tokens WHERE secret IS NOT NULL',
      );
      expect(raw).toHaveLength(2);
      for (const r of raw) expect(r.secret.toString('latin1')).not.toContain(SECRET);
      expect(await pg.admin.findEnrollmentTokenSecret(g)).toBe(`${SECRET}-g`);
      expect(await pg.admin.findEnrollmentTokenSecret(p)).toBe(`${SECRET}-p`);
    } finally {
      await pg.close();
    }
  });

  test('fail/a secret moved to another link does not open', async () => {
    const pg = await openPostgresDatabase({ url: db.url, secrets: KEY });
    try {
      const [g, p] = await store(pg.admin);
      await db.query(
        `UPDATE orchard_admin_enrollment_tokens SET secret =
          (SELECT secret FROM orchard_admin_enrollment_tokens WHERE id = $1) WHERE id = $2`,
        [g, p],
      );
      await expect(pg.admin.findEnrollmentTokenSecret(p)).rejects.toBeInstanceOf(SecretsError);
    } finally {
      await pg.close();
    }
  });

  test('ok/a secret sealed by SQLite opens here once its row is copied', async () => {
    const path = join(dir, 'links.sqlite');
    const lite = openSqliteDatabase({ path, secrets: KEY });
    const [g] = await store(lite.admin);
    await lite.close();
    const file = new Database(path, { readonly: true });
    const row = file
      .prepare(
        'SELECT id, hash, kind, single_use, group_id, secret, created_at FROM orchard_admin_enrollment_tokens WHERE id = ?',
      )
      .get(g) as {
      id: string;
      hash: string;
      kind: string;
      single_use: number;
      group_id: string;
      secret: Buffer;
      created_at: number;
    };
    file.close();
    const pg = await openPostgresDatabase({ url: db.url, secrets: KEY });
    try {
      await db.query(
        `INSERT INTO orchard_admin_enrollment_tokens (id, hash, kind, single_use, group_id, secret, created_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          row.id,
          row.hash,
          row.kind,
          row.single_use === 1,
          row.group_id,
          row.secret,
          new Date(row.created_at),
        ],
      );
      expect(await pg.admin.findEnrollmentTokenSecret(g)).toBe(`${SECRET}-g`);
      expect(await pg.admin.findEnrollmentToken(g)).toMatchObject({
        kind: 'generic',
        groupId: 'global',
      });
    } finally {
      await pg.close();
    }
  });
});
