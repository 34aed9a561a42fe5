/**
 * Library profile content at rest: sealed with the secrets key (profiles carry Wi-Fi and VPN
 * passwords), bound to its profile and version, sealed in place when a database keyed later
 * holds plain content, and re-sealed by a key rotation.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { addSecretsKey, createSecretsKeyring, SecretsError } from '../../src/index.js';
import { openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import type { AdminStorage, ProfileVersionRecord } from '../../src/storage/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-library-sealed-'));
const KEY = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(7) }]);
const SECRET = 'Password-Of-The-Wifi-0123';
const AT = new Date('2026-12-07T02:00:00Z');
let n = 0;
const fresh = () => join(dir, `db-${String((n += 1))}.sqlite`);

function version(profileId: string, v: number): ProfileVersionRecord {
  return {
    ...{ profileId, version: v, payloadUuid: `UUID-${String(v)}`, sha256: 'ab' },
    content: Buffer.from(`<plist><string>${SECRET}-${String(v)}</string></plist>`),
    ...{ createdBy: 'owner', createdAt: AT },
  };
}

async function store(admin: AdminStorage, id: string): Promise<void> {
  const profile = {
    ...{ id, groupId: 'global', identifier: `com.example.${id}`, name: id },
    ...{ assignmentType: 'auto' as const, latestVersion: 1, createdAt: AT, updatedAt: AT },
  };
  expect(await admin.createLibraryProfile(profile, version(id, 1))).toBe(true);
  expect(await admin.addProfileVersion(version(id, 2))).toBeDefined();
}

const rawContents = (path: string): Buffer[] => {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db.prepare('SELECT content FROM orchard_library_profile_versions').all() as {
        content: Buffer;
      }[]
    ).map((r) => r.content);
  } finally {
    db.close();
  }
};

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('library profiles at rest', () => {
  test('ok/sealed in the file, plain through the store', async () => {
    const path = fresh();
    const db = openSqliteDatabase({ path, secrets: KEY });
    await store(db.admin, 'prf_a');
    const raw = rawContents(path);
    expect(raw).toHaveLength(2);
    for (const c of raw) expect(c.toString('latin1')).not.toContain(SECRET);
    const read = await db.admin.findProfileVersion('prf_a', 2);
    expect(read?.content.toString()).toContain(`${SECRET}-2`);
    await db.close();
  });

  test('fail/content moved to another version does not open', async () => {
    const path = fresh();
    const db = openSqliteDatabase({ path, secrets: KEY });
    await store(db.admin, 'prf_b');
    await db.close();
    const raw = new Database(path);
    raw
      .prepare(
        `UPDATE orchard_library_profile_versions SET content =
          (SELECT content FROM orchard_library_profile_versions WHERE version = 1) WHERE version = 2`,
      )
      .run();
    raw.close();
    const reopened = openSqliteDatabase({ path, secrets: KEY });
    await expect(reopened.admin.findProfileVersion('prf_b', 2)).rejects.toBeInstanceOf(
      SecretsError,
    );
    await reopened.close();
  });

  test('ok/plain content from an unkeyed database is sealed in place when a key arrives', async () => {
    const path = fresh();
    const plain = openSqliteDatabase({ path });
    await store(plain.admin, 'prf_c');
    await plain.close();
    expect(rawContents(path)[0]?.toString()).toContain(SECRET);
    const keyed = openSqliteDatabase({ path, secrets: KEY });
    for (const c of rawContents(path)) expect(c.toString('latin1')).not.toContain(SECRET);
    expect((await keyed.admin.findProfileVersion('prf_c', 1))?.content.toString()).toContain(
      `${SECRET}-1`,
    );
    await keyed.close();
  });

  test('ok/a rotation re-seals library profiles under the new key', async () => {
    const path = fresh();
    const db = openSqliteDatabase({ path, secrets: KEY });
    await store(db.admin, 'prf_d');
    await db.close();
    const next = addSecretsKey(KEY);
    const rotating = openSqliteDatabase({ path, secrets: next });
    expect(await rotating.storage.resealSecrets()).toMatchObject({ libraryProfiles: 2 });
    for (const c of rawContents(path)) expect(next.keyIdOf(c)).toBe(next.currentKeyId);
    expect((await rotating.admin.findProfileVersion('prf_d', 2))?.content.toString()).toContain(
      `${SECRET}-2`,
    );
    await rotating.close();
  });
});
