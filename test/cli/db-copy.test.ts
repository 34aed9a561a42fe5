/**
 * `orchard db copy` and `orchard db migrate`, in process against a real SQLite file and a real
 * PostgreSQL test database: an installation with sealed device secrets, commands, results,
 * management data, users, policies, CA records and audit entries moves in one transaction; read
 * through the PostgreSQL stores with the same secrets key, it answers as the SQLite stores did.
 * A target holding data is refused unless `--replace`; a failed check leaves the target as it was.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { main } from '../../src/cli/main.js';
import { createSecretsKeyring } from '../../src/crypto/secrets-key.js';
import type { AdminStorage, MdmStorage } from '../../src/storage/ports.js';
import { openPostgresDatabase } from '../../src/storage/postgres/index.js';
import { openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const keyring = createSecretsKeyring([{ id: 1, key: randomBytes(32) }]);
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0, 123);
const clock = () => new Date(T0);
let dir = '';
let sqlitePath = '';
let pg: TestDatabase;

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = undefined;
  }
}

/** An installation: two devices (one sealed UnlockToken), a command with a result, admin data. */
async function populate(storage: MdmStorage, admin: AdminStorage): Promise<void> {
  for (const id of ['UDID-A', 'UDID-B']) {
    await storage.storeAuthenticate({
      id,
      type: 'device',
      deviceId: id,
      facts: { SerialNumber: `SN-${id}`, Model: 'iPhone', nested: { b: 1, a: [true, null] } },
    });
    await storage.storeTokenUpdate({
      id,
      type: 'device',
      deviceId: id,
      push: { token: `tok-${id}`, pushMagic: 'magic', topic: 'com.apple.mgmt.x' },
      unlockToken: new Uint8Array([1, 2, 3, id.length]),
    });
  }
  await storage.enqueue(
    { uuid: 'CMD-1', requestType: 'DeviceInformation', body: new Uint8Array([9, 8, 7]) },
    ['UDID-A', 'UDID-B'],
  );
  const next = await storage.nextCommand('UDID-A', { skipNotNow: false, now: clock() });
  expect(next?.uuid).toBe('CMD-1');
  await storage.storeResult('UDID-A', {
    uuid: 'CMD-1',
    status: 'Acknowledged',
    result: new Uint8Array([42]),
  });
  const { revision } = await admin.loadManagement();
  await admin.applyManagement(
    { putGroups: [{ id: 'sales', name: 'Sales', parentId: 'global', createdAt: clock() }] },
    revision,
  );
  await admin.audit({ actor: 'test', action: 'copy.prepare', target: 'x', detail: { z: 1, a: 2 } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-db-copy-'));
  sqlitePath = join(dir, 'orchard.db');
  const db = openSqliteDatabase({ path: sqlitePath, clock, secrets: keyring, lastSeenFlushMs: 0 });
  try {
    await populate(db.storage, db.admin);
  } finally {
    await db.close();
  }
  pg = await createTestDatabase('dbcopy');
});

afterEach(() => {
  process.exitCode = undefined;
});

afterAll(async () => {
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('orchard db copy', () => {
  test('ok/every row arrives and reads back through the PostgreSQL stores with the same key', async () => {
    const result = await run('db', 'copy', '--from', `sqlite:${sqlitePath}`, '--to', pg.url);
    expect(result.err).toContain('verified');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.out) as {
      verified: boolean;
      reports: { table: string; source: number; target: number; verified: boolean }[];
    };
    expect(summary.verified).toBe(true);
    const byTable = new Map(summary.reports.map((r) => [r.table, r]));
    expect(byTable.get('enrollments')).toMatchObject({ source: 2, target: 2, verified: true });
    expect(byTable.get('command_targets')).toMatchObject({ source: 2, target: 2 });
    expect(summary.reports.every((r) => r.source === r.target && r.verified)).toBe(true);

    const db = await openPostgresDatabase({ url: pg.url, clock, secrets: keyring });
    try {
      const a = await db.storage.findEnrollment('UDID-A');
      expect(a).toMatchObject({
        enrolled: true,
        facts: { SerialNumber: 'SN-UDID-A', nested: { b: 1, a: [true, null] } },
        createdAt: new Date(T0),
      });
      expect(await db.storage.findUnlockToken('UDID-B')).toEqual(new Uint8Array([1, 2, 3, 6]));
      const results = await db.storage.listForEnrollment('UDID-A', { limit: 10 });
      expect(results.items[0]).toMatchObject({ uuid: 'CMD-1', status: 'Acknowledged' });
      const pending = await db.storage.nextCommand('UDID-B', { skipNotNow: false, now: clock() });
      expect(pending).toMatchObject({ uuid: 'CMD-1', body: new Uint8Array([9, 8, 7]) });
      const management = await db.admin.loadManagement();
      expect(management.groups.map((g) => g.id).sort()).toEqual(['global', 'sales']);
      const audit = await db.admin.listAudit({ limit: 10 });
      expect(audit.items[0]).toMatchObject({ action: 'copy.prepare', detail: { a: 2, z: 1 } });
      // The copied identity counter continues after the copied rows.
      const next = await db.admin.audit({ actor: 't', action: 'after', target: 'y', detail: {} });
      expect(next.seq).toBeGreaterThan(audit.items[0]?.seq ?? Infinity);
    } finally {
      await db.close();
    }
  });

  test('fail/a target that holds data is refused, and --replace replaces it', async () => {
    const refused = await run('db', 'copy', '--from', `sqlite:${sqlitePath}`, '--to', pg.url);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/already holds data/);
    const replaced = await run(
      ...['db', 'copy', '--from', `sqlite:${sqlitePath}`, '--to', pg.url, '--replace'],
    );
    expect(replaced.code).toBe(0);
    const rows = await pg.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM enrollments');
    expect(rows[0]?.n).toBe(2);
  });

  test('fail/a wrong key cannot read what was copied (sealed bytes moved as they are)', async () => {
    const other = createSecretsKeyring([{ id: 1, key: randomBytes(32) }]);
    await expect(openPostgresDatabase({ url: pg.url, secrets: other })).rejects.toMatchObject({
      code: 'ERR_SECRETS_KEY_MISMATCH',
    });
  });

  test('ok/an unsealed installation: text in byte columns arrives as UTF-8 bytes, U+0000 as U+FFFD', async () => {
    const plainPath = join(dir, 'plain.db');
    const plain = openSqliteDatabase({ path: plainPath, clock });
    const payload = JSON.stringify({ path: 'C:\\Users\\x', quote: '"', emoji: '🍏' });
    await plain.storage.enqueueEvent({ id: 'ev-1', type: 'test', payload, createdAt: clock() });
    // A device that reported U+0000 (SQLite keeps it; PostgreSQL stores U+FFFD instead).
    await plain.storage.storeAuthenticate({
      ...{ id: 'NUL-DEVICE', type: 'device', deviceId: 'NUL-DEVICE', userShortName: 'a\u0000b' },
      facts: { DeviceName: 'x\u0000y', ['k\u0000']: ['\u0000'] },
    });
    await plain.close();
    const target = await createTestDatabase('dbcopyplain');
    try {
      const result = await run('db', 'copy', '--from', `sqlite:${plainPath}`, '--to', target.url);
      expect(result.code).toBe(0);
      const db = await openPostgresDatabase({ url: target.url, clock });
      try {
        const [entry] = await db.storage.claimDue(10, clock(), 60_000);
        expect(entry).toMatchObject({ id: 'ev-1', payload });
        expect(await db.storage.findEnrollment('NUL-DEVICE')).toMatchObject({
          userShortName: 'a\uFFFDb',
          facts: { DeviceName: 'x\uFFFDy', ['k\uFFFD']: ['\uFFFD'] },
        });
      } finally {
        await db.close();
      }
    } finally {
      await target.drop();
    }
  });

  test('fail/misuse: --from must be sqlite:PATH, --to a postgres:// URL', async () => {
    expect((await run('db', 'copy', '--from', sqlitePath, '--to', pg.url)).code).toBe(2);
    expect((await run('db', 'copy', '--from', `sqlite:${sqlitePath}`, '--to', 'x')).code).toBe(2);
  });
});

describe('orchard db migrate', () => {
  test('ok/an empty PostgreSQL database is brought to the schema once', async () => {
    const fresh = await createTestDatabase('dbmigrate');
    try {
      const first = await run('db', 'migrate', '--database', fresh.url);
      expect(first.code).toBe(0);
      const outcome = JSON.parse(first.out) as { from: number; to: number };
      expect(outcome.from).toBe(0);
      expect(outcome.to).toBeGreaterThanOrEqual(2);
      const again = JSON.parse((await run('db', 'migrate', '--database', fresh.url)).out) as {
        from: number;
      };
      expect(again.from).toBe(outcome.to);
    } finally {
      await fresh.drop();
    }
  });

  test('ok/a SQLite file reports its version before and after', async () => {
    const result = await run('db', 'migrate', '--database', `sqlite:${sqlitePath}`);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ database: 'sqlite', from: expect.any(Number) });
  });
});
