/**
 * The CA tables' migration from their own schema 1 (Orchard before 0.1) into the one schema of the
 * database, on real files written with the old DDL.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { CertificateAuthorityError } from '../../../src/errors.js';
import { FIND_ISSUED_SQL } from '../../../src/storage/sqlite/ca.js';
import { MIGRATIONS, openSqliteCaStorage } from '../../../src/storage/sqlite/index.js';
import { normaliseSerial, type IssuedCertificate } from '../../../src/identity/ca/store.js';
import { challengeDigest } from '../../../src/identity/scep/challenge.js';
import { makeTmpDir } from '../../support/openssl.js';

const tmp = makeTmpDir('orchard-ca-migration-');
const closers: (() => void)[] = [];
afterAll(() => {
  for (const c of closers) c();
  tmp.remove();
});

/** Schema 1 exactly as Orchard shipped it (fixture: do not update it with the code). */
const SCHEMA_1 = `
CREATE TABLE IF NOT EXISTS orchard_ca_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS orchard_ca_certificates (
  serial TEXT PRIMARY KEY,
  serial_len INTEGER NOT NULL,
  subject TEXT NOT NULL,
  enrollment_id TEXT,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  der BLOB NOT NULL,
  revoked_at INTEGER,
  revocation_reason TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orchard_ca_certificates_order ON orchard_ca_certificates (serial_len, serial);
CREATE INDEX IF NOT EXISTS orchard_ca_certificates_enrollment
  ON orchard_ca_certificates (enrollment_id) WHERE enrollment_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS orchard_ca_challenges (
  digest BLOB PRIMARY KEY,
  enrollment_id TEXT,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orchard_ca_challenges_expiry ON orchard_ca_challenges (expires_at);
INSERT OR REPLACE INTO orchard_ca_meta (key, value) VALUES ('schema', '1');
`;

const day = 86_400_000;
const base = Date.UTC(2026, 0, 1);

/** 50 records: serials of 1 to 32 hex digits, every third with an enrollment, every fifth revoked. */
function fixtureRecords(): IssuedCertificate[] {
  const out: IssuedCertificate[] = [];
  for (let i = 0; i < 50; i++) {
    const hex = createHash('sha256')
      .update(`serial-${String(i)}`)
      .digest('hex');
    const serial = normaliseSerial(hex.slice(0, 1 + ((i * 7) % 32)));
    const r: IssuedCertificate = {
      serial,
      subject: `CN=device-${String(i)},O=Orchard`,
      notBefore: new Date(base + i * day),
      notAfter: new Date(base + (i + 365) * day),
      issuedAt: new Date(base + i * day + 1234),
      der: Buffer.from(Array.from({ length: 1200 + i }, (_, k) => (k * 31 + i) & 0xff)),
    };
    if (i % 3 === 0) r.enrollmentId = `enr-${String(i % 9)}`;
    if (i % 5 === 0) {
      r.revokedAt = new Date(base + (i + 30) * day);
      if (i % 10 === 0) r.revocationReason = 'keyCompromise';
    }
    out.push(r);
  }
  return out;
}

/** Writes a schema 1 database (WAL, like Orchard opened it) holding `records` and one challenge. */
function writeSchema1(path: string, records: IssuedCertificate[]): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(SCHEMA_1);
  const insert = db.prepare(
    `INSERT INTO orchard_ca_certificates (serial, serial_len, subject, enrollment_id, not_before,
       not_after, issued_at, der, revoked_at, revocation_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const r of records) {
    insert.run(
      r.serial,
      r.serial.length,
      r.subject,
      r.enrollmentId ?? null,
      r.notBefore.getTime(),
      r.notAfter.getTime(),
      r.issuedAt.getTime(),
      r.der,
      r.revokedAt?.getTime() ?? null,
      r.revocationReason ?? null,
    );
  }
  db.prepare(
    'INSERT INTO orchard_ca_challenges (digest, enrollment_id, expires_at) VALUES (?, ?, ?)',
  ).run(challengeDigest('kept'), 'enr-c', base + 1000 * day);
  db.close();
}

function inspect<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** The CA's own version record is gone: the file's one record says every migration ran. */
function expectOneVersionRecord(db: Database.Database): void {
  expect(
    db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'orchard_ca_meta'").pluck().get(),
  ).toBe(0);
  expect(db.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(
    MIGRATIONS.at(-1)?.version,
  );
}

function numericOrder(a: IssuedCertificate, b: IssuedCertificate): number {
  return a.serial.length - b.serial.length || (a.serial < b.serial ? -1 : 1);
}

function open(path: string): ReturnType<typeof openSqliteCaStorage> {
  const s = openSqliteCaStorage({ path });
  closers.push(() => {
    s.close();
  });
  return s;
}

describe('SQLite CA store: schema 1 to 3 migration', () => {
  test('ok/every record, revocation and challenge survives, in the same order', async () => {
    const path = tmp.path('v1.sqlite');
    const records = fixtureRecords();
    expect(new Set(records.map((r) => r.serial)).size).toBe(50);
    expect(new Set(records.map((r) => r.serial.length)).size).toBeGreaterThan(10);
    writeSchema1(path, records);

    const { certificates, challenges } = open(path);
    expect(await certificates.countIssued()).toBe(50);
    for (const r of records) {
      const found = await certificates.findIssued(r.serial);
      expect(found).toBeDefined();
      // toEqual compares the Buffers byte for byte and treats absent fields as absent.
      expect(found).toEqual(r);
      expect(found?.der.equals(r.der)).toBe(true);
      expect(Object.keys(found ?? {}).sort()).toEqual(Object.keys(r).sort());
    }

    const expected = [...records].sort(numericOrder).map((r) => r.serial);
    expect((await certificates.listIssued({ limit: 1000 })).map((r) => r.serial)).toEqual(expected);
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await certificates.listIssued(
        after === undefined ? { limit: 7 } : { limit: 7, after },
      );
      if (page.length === 0) break;
      paged.push(...page.map((r) => r.serial));
      after = page[page.length - 1]?.serial;
    }
    expect(paged).toEqual(expected);
    const enr = (await certificates.listIssued({ enrollmentId: 'enr-0' })).map((r) => r.serial);
    expect(enr).toEqual(
      [...records]
        .filter((r) => r.enrollmentId === 'enr-0')
        .sort(numericOrder)
        .map((r) => r.serial),
    );
    expect(enr.length).toBeGreaterThan(1);

    // Revocation keeps the first date and reason on migrated rows and works on the others.
    const revoked = records.find((r) => r.revocationReason !== undefined);
    const live = records.find((r) => r.revokedAt === undefined);
    if (revoked === undefined || live === undefined) throw new Error('fixture');
    expect(await certificates.revoke(revoked.serial, new Date(), 'superseded')).toBe(true);
    expect(await certificates.findIssued(revoked.serial)).toEqual(revoked);
    expect(await certificates.revoke(live.serial, new Date(base), 'superseded')).toBe(true);
    expect((await certificates.findIssued(live.serial))?.revocationReason).toBe('superseded');

    const dup = certificates.recordIssued({ ...records[7]!, subject: 'CN=other' });
    await expect(dup).rejects.toBeInstanceOf(CertificateAuthorityError);
    await expect(dup).rejects.toMatchObject({ code: 'ERR_CA_SERIAL_CONFLICT' });
    await certificates.recordIssued({ ...records[7]!, serial: 'abcdef0123456789' });
    expect(await certificates.countIssued()).toBe(51);

    expect((await challenges.consume(challengeDigest('kept'), new Date(base)))?.enrollmentId).toBe(
      'enr-c',
    );

    inspect(path, (db) => {
      expectOneVersionRecord(db);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const ddl = db
        .prepare("SELECT sql FROM sqlite_master WHERE name = 'orchard_ca_certificates'")
        .pluck()
        .get() as string;
      expect(ddl).not.toMatch(/WITHOUT ROWID/i);
      expect(ddl).toMatch(/id INTEGER PRIMARY KEY/);
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE name LIKE 'orchard_ca_certificates%'")
        .pluck()
        .all();
      expect(tables.sort()).toEqual([
        'orchard_ca_certificates',
        'orchard_ca_certificates_enrollment',
        'orchard_ca_certificates_serial',
      ]);
      // Rows were copied in serial order, so rowids follow the listing order.
      const byRowid = db.prepare('SELECT serial FROM orchard_ca_certificates ORDER BY id LIMIT 50');
      expect(byRowid.pluck().all()).toEqual(expected);
    });
  });

  test('ok/the serial lookup is a SEARCH on the unique (serial_len, serial) index', () => {
    const path = tmp.path('plan.sqlite');
    writeSchema1(path, fixtureRecords().slice(0, 3));
    open(path);
    inspect(path, (db) => {
      // The statement findIssued prepares, planned on the migrated file.
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${FIND_ISSUED_SQL}`).all(2, 'ab') as {
        detail: string;
      }[];
      expect(plan.map((p) => p.detail).join('\n')).toMatch(
        /SEARCH orchard_ca_certificates USING INDEX orchard_ca_certificates_serial \(serial_len=\? AND serial=\?\)/,
      );
      const unique = db.prepare("PRAGMA index_list('orchard_ca_certificates')").all() as {
        name: string;
        unique: number;
        partial: number;
      }[];
      expect(unique).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            name: 'orchard_ca_certificates_serial',
            unique: 1,
            partial: 0,
          }),
          expect.objectContaining({
            name: 'orchard_ca_certificates_enrollment',
            unique: 0,
            partial: 1,
          }),
        ]),
      );
    });
  });

  test('ok/two connections opening one old file: migrated once, both work', async () => {
    const path = tmp.path('shared-v1.sqlite');
    const records = fixtureRecords();
    writeSchema1(path, records);
    const a = open(path);
    const b = open(path);
    expect(await a.certificates.countIssued()).toBe(50);
    expect(await b.certificates.countIssued()).toBe(50);
    expect(await b.certificates.findIssued(records[3]!.serial)).toEqual(records[3]);
    await a.certificates.recordIssued({ ...records[0]!, serial: 'feedface' });
    await expect(
      b.certificates.recordIssued({ ...records[0]!, serial: 'FE:ED:FA:CE' }),
    ).rejects.toMatchObject({ code: 'ERR_CA_SERIAL_CONFLICT' });
    expect(await b.certificates.countIssued()).toBe(51);
    const c = open(path);
    expect(await c.certificates.countIssued()).toBe(51);
    inspect(path, (db) => {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare('SELECT max(id) FROM orchard_ca_certificates').pluck().get()).toBe(51);
    });
  });

  test('ok/a new file is created at the current schema directly', async () => {
    const path = tmp.path('fresh.sqlite');
    const { certificates } = open(path);
    await certificates.recordIssued(fixtureRecords()[1]!);
    inspect(path, (db) => {
      expectOneVersionRecord(db);
      expect(
        db
          .prepare("SELECT count(*) FROM sqlite_master WHERE name = 'orchard_ca_certificates_v2'")
          .pluck()
          .get(),
      ).toBe(0);
    });
  });

  test('fail/a CA schema newer than this code is refused, its tables untouched', () => {
    const path = tmp.path('future.sqlite');
    writeSchema1(path, fixtureRecords().slice(0, 2));
    const db = new Database(path);
    db.prepare("UPDATE orchard_ca_meta SET value = '99' WHERE key = 'schema'").run();
    db.close();
    expect(() => openSqliteCaStorage({ path })).toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE' }),
    );
    inspect(path, (d) => {
      expect(d.prepare('SELECT count(*) FROM orchard_ca_certificates').pluck().get()).toBe(2);
    });
  });
});
