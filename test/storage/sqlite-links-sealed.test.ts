/**
 * Kept enrollment-link secrets at rest: sealed with the secrets key (a personal or generic link's
 * secret enrolls devices), bound to the link's id, sealed in place when a database keyed later
 * holds plain secrets, and re-sealed by a key rotation.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { addSecretsKey, createSecretsKeyring, SecretsError } from '../../src/index.js';
import { openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import type { AdminStorage } from '../../src/storage/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-links-sealed-'));
const KEY = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(9) }]);
const SECRET = 'Link-Secret-Of-The-Generic-Link-0123';
let n = 0;
const fresh = () => join(dir, `db-${String((n += 1))}.sqlite`);

/** Stores a generic link and a personal link with kept secrets; their ids. */
async function store(admin: AdminStorage): Promise<string[]> {
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

const rawSecrets = (path: string): Buffer[] => {
  const db = new Database(path, { readonly: true });
  try {
    const sql = 'SELECT secret FROM orchard_admin_enrollment_tokens WHERE secret IS NOT NULL';
    return (db.prepare(sql).all() as { secret: Buffer }[]).map((r) => r.secret);
  } finally {
    db.close();
  }
};

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('kept enrollment-link secrets at rest', () => {
  test('ok/sealed in the file, plain through the store', async () => {
    const path = fresh();
    const db = openSqliteDatabase({ path, secrets: KEY });
    const [g, p] = await store(db.admin);
    const raw = rawSecrets(path);
    expect(raw).toHaveLength(2);
    for (const s of raw) expect(s.toString('latin1')).not.toContain(SECRET);
    expect(await db.admin.findEnrollmentTokenSecret(g ?? '')).toBe(`${SECRET}-g`);
    expect(await db.admin.findEnrollmentTokenSecret(p ?? '')).toBe(`${SECRET}-p`);
    await db.close();
  });

  test('fail/a secret moved to another link does not open', async () => {
    const path = fresh();
    const db = openSqliteDatabase({ path, secrets: KEY });
    const [g, p] = await store(db.admin);
    await db.close();
    const raw = new Database(path);
    raw
      .prepare(
        `UPDATE orchard_admin_enrollment_tokens SET secret =
          (SELECT secret FROM orchard_admin_enrollment_tokens WHERE id = ?) WHERE id = ?`,
      )
      .run(g, p);
    raw.close();
    const reopened = openSqliteDatabase({ path, secrets: KEY });
    await expect(reopened.admin.findEnrollmentTokenSecret(p ?? '')).rejects.toBeInstanceOf(
      SecretsError,
    );
    await reopened.close();
  });

  test('ok/plain secrets from an unkeyed database are sealed in place when a key arrives', async () => {
    const path = fresh();
    const plain = openSqliteDatabase({ path });
    const [g] = await store(plain.admin);
    await plain.close();
    expect(rawSecrets(path)[0]?.toString()).toContain(SECRET);
    const keyed = openSqliteDatabase({ path, secrets: KEY });
    for (const s of rawSecrets(path)) expect(s.toString('latin1')).not.toContain(SECRET);
    expect(await keyed.admin.findEnrollmentTokenSecret(g ?? '')).toBe(`${SECRET}-g`);
    await keyed.close();
  });

  test('ok/a rotation re-seals kept link secrets under the new key', async () => {
    const path = fresh();
    const db = openSqliteDatabase({ path, secrets: KEY });
    const [, p] = await store(db.admin);
    await db.close();
    const next = addSecretsKey(KEY);
    const rotating = openSqliteDatabase({ path, secrets: next });
    expect(await rotating.storage.resealSecrets()).toMatchObject({ enrollmentLinks: 2 });
    for (const s of rawSecrets(path)) expect(next.keyIdOf(s)).toBe(next.currentKeyId);
    expect(await rotating.admin.findEnrollmentTokenSecret(p ?? '')).toBe(`${SECRET}-p`);
    await rotating.close();
  });
});
