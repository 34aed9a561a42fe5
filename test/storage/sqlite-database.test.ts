/**
 * `openSqliteDatabase`: every store on one connection, each closing on its own, the connection
 * closing with the last; and the single-kind openers sharing the same schema in one file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { createSecretsKeyring, generateSecretsKey } from '../../src/crypto/secrets-key.js';
import {
  createSqliteStorage,
  openSqliteAdminStore,
  openSqliteCaStorage,
  openSqliteDatabase,
} from '../../src/storage/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-sqlite-database-'));
let n = 0;
const freshPath = (): string => join(dir, `db-${String(++n)}.db`);
const identity = { id: 'A', type: 'device' as const, deviceId: 'A' };
const digest = Buffer.alloc(32, 1);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('openSqliteDatabase', () => {
  test('ok/a store closed alone leaves the others working; close() ends them all', async () => {
    const db = openSqliteDatabase({ path: freshPath() });
    db.admin.close();
    await expect(db.admin.getMeta('x')).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE' }),
    );
    await db.storage.storeAuthenticate({ ...identity, facts: {} });
    await db.ca.challenges.put({ digest, expiresAt: new Date(Date.now() + 60_000) });
    await db.close();
    await expect(db.storage.findEnrollment('A')).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    await expect(db.ca.certificates.countIssued()).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    await db.close();
  });

  test('ok/what one kind of opener writes, the others read from the same file', async () => {
    const path = freshPath();
    const ca = openSqliteCaStorage({ path });
    await ca.challenges.put({ digest, expiresAt: new Date(Date.now() + 60_000) });
    ca.close();
    const admin = openSqliteAdminStore({ path, clock: () => new Date(0) });
    await admin.setMeta('public_url', 'https://mdm.example.com');
    admin.close();
    const db = openSqliteDatabase({ path });
    expect(await db.admin.getMeta('public_url')).toBe('https://mdm.example.com');
    expect(await db.ca.challenges.consume(digest, new Date())).toBeDefined();
    await db.close();
  });

  test('ok/the CA and admin stores open a sealed database without its keyring', async () => {
    const path = freshPath();
    const secrets = createSecretsKeyring([generateSecretsKey(1)]);
    await createSqliteStorage({ path, secrets }).close();
    expect(() => createSqliteStorage({ path })).toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE' }),
    );
    const ca = openSqliteCaStorage({ path });
    expect(await ca.certificates.countIssued()).toBe(0);
    ca.close();
    const admin = openSqliteAdminStore({ path });
    expect(await admin.countActiveApiKeys()).toBe(0);
    admin.close();
  });
});
