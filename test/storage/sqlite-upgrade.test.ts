/**
 * A data directory written by Orchard 0.1 (three stores, three schemas, one file) opens with the
 * one schema of today: every row survives and stays usable, a second open changes nothing, a
 * database from a newer Orchard is refused, and a migration that fails leaves no trace.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from '@jest/globals';
import { challengeDigest } from '../../src/identity/scep/challenge.js';
import {
  MIGRATIONS,
  openSqliteDatabase,
  type SqliteDatabase,
} from '../../src/storage/sqlite/index.js';
import { migrate } from '../../src/storage/sqlite/migrations.js';
import {
  copyDataDir,
  inspect,
  manifest as m,
  rowCounts,
  schemaState,
  type DataDirCopy,
} from './datadir-fixture.js';

const LATEST = MIGRATIONS.at(-1)?.version ?? 0;
const madeAt = new Date(m.madeAt);
let copy: DataDirCopy;
const opened: SqliteDatabase[] = [];

function open(): SqliteDatabase {
  const database = openSqliteDatabase({ path: copy.db, secrets: copy.keyring, lastSeenFlushMs: 0 });
  opened.push(database);
  return database;
}

afterEach(async () => {
  for (const d of opened.splice(0)) await d.close();
  copy.remove();
});

function withCopy(): void {
  copy = copyDataDir();
}

describe('a 0.1 data directory', () => {
  test('ok/every row survives the migration: counts, and each table that was versioned apart', () => {
    withCopy();
    const before = inspect(copy.db, rowCounts);
    expect(before).toMatchObject({ schema_migrations: 3, orchard_ca_meta: 1 });
    open();
    const after = inspect(copy.db, rowCounts);
    const {
      orchard_ca_meta: _meta,
      schema_migrations: _v,
      secrets_sealed: sealed,
      ...kept
    } = before;
    expect(after).toMatchObject(kept);
    // Kinds of secret added since 0.1 (library profiles, enrollment links, removal passwords)
    // are marked sealed on the first keyed open.
    expect(after.secrets_sealed).toBe((sealed ?? 0) + 3);
    expect(after.orchard_ca_meta).toBeUndefined();
    expect(after.schema_migrations).toBe(LATEST);
    for (const table of ['enrollments', 'commands', 'cert_bindings', 'orchard_ca_certificates'])
      expect(after[table]).toBeGreaterThan(0);
  });

  test('ok/MDM rows read back, sealed values included', async () => {
    withCopy();
    const { storage } = open();
    const enrollment = await storage.findEnrollment(m.udid);
    expect(enrollment).toMatchObject({ enrolled: true, facts: { SerialNumber: 'EMU0001' } });
    expect(await storage.findPushInfo([m.udid])).toEqual([
      expect.objectContaining({ enrollmentId: m.udid, topic: m.topic }),
    ]);
    expect(Buffer.from((await storage.findUnlockToken(m.udid)) ?? []).toString()).toBe(
      'unlock-token',
    );
    expect(await storage.findCertificateBinding(m.udid)).toMatchObject({ serial: m.deviceSerial });
    const answered = await storage.findCommand(m.answeredCommand);
    expect(answered?.targets[0]).toMatchObject({
      status: 'Acknowledged',
      lastPush: { outcome: 'failed' },
    });
    expect(Buffer.from(answered?.targets[0]?.result ?? []).toString()).toContain('EMU0001');
    expect(Buffer.from(answered?.body ?? []).toString()).toContain('DeviceInformation');
    const ids = inspect(copy.db, (db) => db.prepare('SELECT id FROM outbox').pluck().all());
    for (const id of ids as string[]) {
      const entry = await storage.findOutboxEntry(id);
      expect(JSON.parse(entry?.payload ?? '')).toHaveProperty('type');
    }
  });

  test('ok/CA records, the revocation and the outstanding challenge read back', async () => {
    withCopy();
    const { ca } = open();
    expect(await ca.certificates.countIssued()).toBe(2);
    expect(await ca.certificates.findIssued(m.deviceSerial)).toMatchObject({
      enrollmentId: `enrollment-token:${m.singleUseLinkId}`,
    });
    expect(await ca.certificates.findIssued(m.revokedSerial)).toMatchObject({
      revokedAt: expect.any(Date),
      revocationReason: 'keyCompromise',
    });
    const challenge = await ca.challenges.consume(challengeDigest(m.outstandingChallenge), madeAt);
    expect(challenge?.enrollmentId).toBe(`enrollment-token:${m.multiUseLinkId}`);
  });

  test('ok/API keys, audit log, enrollment links and settings read back', async () => {
    withCopy();
    const { admin } = open();
    const hash = createHash('sha256').update(m.readApiKey).digest('hex');
    expect(await admin.findApiKeyByHash(hash)).toMatchObject({
      id: m.readApiKeyId,
      scope: 'read',
      principalId: 'owner',
    });
    expect((await admin.loadManagement()).groups.map((g) => g.id)).toEqual(['global']);
    expect(await admin.findPrincipal('owner')).toMatchObject({ role: 'full', groupId: 'global' });
    expect(await admin.countActiveApiKeys()).toBe(2);
    const audit = (await admin.listAudit({ limit: 100 })).items.map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['api-key.create', 'certificate.revoke']));
    expect(await admin.findEnrollmentToken(m.singleUseLinkId)).toMatchObject({
      singleUse: true,
      enrollments: 1,
    });
    expect(await admin.findEnrollmentToken(m.multiUseLinkId)).toMatchObject({ user: 'alice' });
    expect(await admin.getMeta('push_topic')).toBe(m.topic);
  });

  test('ok/a second open is a no-op: same schema, same version record', async () => {
    withCopy();
    await open().close();
    const first = inspect(copy.db, schemaState);
    await open().close();
    expect(inspect(copy.db, schemaState)).toEqual(first);
  });
});

describe('refusals and rollback', () => {
  test('fail/a database from a newer Orchard is refused with ERR_STORAGE, untouched', async () => {
    withCopy();
    await open().close();
    const raw = new Database(copy.db);
    raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(LATEST + 1, 'future', 0);
    raw.close();
    const before = inspect(copy.db, schemaState);
    expect(() => open()).toThrow(
      expect.objectContaining({
        code: 'ERR_STORAGE',
        message: expect.stringMatching(/newer than this Orchard/),
        detail: { schemaVersion: LATEST + 1, supportedVersion: LATEST },
      }),
    );
    expect(inspect(copy.db, schemaState)).toEqual(before);
  });

  test('fail/a migration that fails rolls back alone: earlier ones stay, its tables untouched', () => {
    withCopy();
    const raw = new Database(copy.db);
    raw.prepare("UPDATE orchard_ca_meta SET value = '7' WHERE key = 'schema'").run();
    raw.close();
    expect(() => open()).toThrow(expect.objectContaining({ code: 'ERR_STORAGE' }));
    inspect(copy.db, (db) => {
      expect(db.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(4);
      expect(db.prepare('SELECT value FROM orchard_ca_meta').pluck().get()).toBe('7');
      expect(rowCounts(db).orchard_ca_certificates).toBe(2);
    });
  });

  test('fail/a statement failing mid-migration undoes the statements before it', () => {
    withCopy();
    const db = new Database(copy.db);
    try {
      const broken = {
        version: LATEST + 1,
        name: 'broken',
        sql: 'CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);',
      };
      expect(() => migrate(db, 0, [...MIGRATIONS, broken])).toThrow(/no such table/);
      expect(rowCounts(db).half_done).toBeUndefined();
      expect(db.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(LATEST);
      expect(migrate(db, 0)).toBe(LATEST);
    } finally {
      db.close();
    }
  });
});
