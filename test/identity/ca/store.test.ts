/**
 * The CA module's own memory stores and the SQLite CA storage across connections. Store
 * behaviour every adapter shares (memory, SQLite) is in test/storage/conformance-ca.ts.
 */
import { createMemoryCertificateStore, createMemoryChallengeStore } from '../../../src/index.js';
import { afterAll, describe, expect, test } from '@jest/globals';
import { CertificateAuthorityError } from '../../../src/errors.js';
import { openSqliteCaStorage } from '../../../src/storage/sqlite/index.js';
import { normaliseSerial, type CertificateStore } from '../../../src/identity/ca/store.js';
import { challengeDigest, type ChallengeStore } from '../../../src/identity/scep/challenge.js';
import { makeTmpDir } from '../../support/openssl.js';
import { issuedRecord as record } from '../../storage/conformance-ca.js';

const tmp = makeTmpDir('orchard-ca-store-');
const closers: (() => void)[] = [];
afterAll(() => {
  for (const c of closers) c();
  tmp.remove();
});

// createMemoryCertificateStore and createMemoryChallengeStore are the stores of createMemoryCaStorage
// (held to SQLite's semantics by the conformance suite), under the names they had before it.
const backends: [string, () => { certificates: CertificateStore; challenges: ChallengeStore }][] = [
  [
    'identity memory',
    () => ({
      certificates: createMemoryCertificateStore(),
      challenges: createMemoryChallengeStore(),
    }),
  ],
];

describe.each(backends)('CertificateStore (%s)', (_name, open) => {
  test('ok/records and finds, whatever the serial spelling', async () => {
    const { certificates } = open();
    await certificates.recordIssued(record('4a0b', { enrollmentId: 'e1' }));
    const found = await certificates.findIssued('00:4A:0B');
    expect(found?.subject).toBe('CN=4a0b');
    expect(found?.enrollmentId).toBe('e1');
    expect(found?.notAfter.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(found?.der.equals(Buffer.from('4a0b', 'hex'))).toBe(true);
    expect(await certificates.findIssued('ffff')).toBeUndefined();
  });

  test('fail/a duplicate serial is ERR_CA_SERIAL_CONFLICT, and the first record stays', async () => {
    const { certificates } = open();
    await certificates.recordIssued(record('77'));
    const dup = certificates.recordIssued(record('77', { subject: 'CN=other' }));
    await expect(dup).rejects.toBeInstanceOf(CertificateAuthorityError);
    await expect(dup).rejects.toMatchObject({ code: 'ERR_CA_SERIAL_CONFLICT' });
    expect((await certificates.findIssued('77'))?.subject).toBe('CN=77');
  });

  test('ok/revocation is recorded once and is idempotent; unknown serials answer false', async () => {
    const { certificates } = open();
    await certificates.recordIssued(record('0a'));
    expect(await certificates.revoke('0a', new Date('2026-02-01T00:00:00Z'), 'keyCompromise')).toBe(
      true,
    );
    expect(await certificates.revoke('0a', new Date('2026-03-01T00:00:00Z'), 'superseded')).toBe(
      true,
    );
    const r = await certificates.findIssued('0a');
    expect(r?.revokedAt?.toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(r?.revocationReason).toBe('keyCompromise');
    expect(await certificates.revoke('0b', new Date(), undefined)).toBe(false);
  });

  test('ok/lists in numeric serial order with keyset pages and enrollment filter', async () => {
    const { certificates } = open();
    for (const s of ['ff', '1', '100', '20', 'abc'])
      await certificates.recordIssued(record(s, s === '20' ? { enrollmentId: 'x' } : {}));
    const page1 = await certificates.listIssued({ limit: 3 });
    expect(page1.map((r) => r.serial)).toEqual(['1', '20', 'ff']);
    const page2 = await certificates.listIssued({ limit: 3, after: 'ff' });
    expect(page2.map((r) => r.serial)).toEqual(['100', 'abc']);
    expect((await certificates.listIssued({ enrollmentId: 'x' })).map((r) => r.serial)).toEqual([
      '20',
    ]);
    expect(await certificates.countIssued()).toBe(5);
  });
});

describe.each(backends)('ChallengeStore (%s)', (_name, open) => {
  const now = new Date('2026-05-01T12:00:00Z');
  const later = (s: number): Date => new Date(now.getTime() + s * 1000);

  test('ok/a challenge is consumed exactly once', async () => {
    const { challenges } = open();
    const digest = challengeDigest('abc');
    await challenges.put({ digest, enrollmentId: 'enr-1', expiresAt: later(60) });
    expect((await challenges.consume(digest, now))?.enrollmentId).toBe('enr-1');
    expect(await challenges.consume(digest, now)).toBeUndefined();
  });

  test('fail/an expired challenge is not accepted and is gone afterwards', async () => {
    const { challenges } = open();
    const digest = challengeDigest('old');
    await challenges.put({ digest, expiresAt: later(60) });
    expect(await challenges.consume(digest, later(60))).toBeUndefined();
    expect(await challenges.consume(digest, now)).toBeUndefined();
  });

  test('ok/purge removes only expired challenges', async () => {
    const { challenges } = open();
    await challenges.put({ digest: challengeDigest('a'), expiresAt: later(10) });
    await challenges.put({ digest: challengeDigest('b'), expiresAt: later(100) });
    expect(await challenges.purgeExpired(later(50))).toBe(1);
    expect(await challenges.consume(challengeDigest('b'), later(50))).toBeDefined();
  });
});

describe('SQLite across connections', () => {
  test('ok/two connections to one file: a challenge is consumed once, a serial recorded once', async () => {
    const path = tmp.path('shared.sqlite');
    const a = openSqliteCaStorage({ path });
    const b = openSqliteCaStorage({ path });
    closers.push(() => {
      a.close();
      b.close();
    });
    const digest = challengeDigest('shared');
    await a.challenges.put({ digest, expiresAt: new Date(Date.now() + 60_000) });
    const results = await Promise.all([
      a.challenges.consume(digest, new Date()),
      b.challenges.consume(digest, new Date()),
    ]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    await a.certificates.recordIssued(record('abcd'));
    await expect(b.certificates.recordIssued(record('abcd'))).rejects.toMatchObject({
      code: 'ERR_CA_SERIAL_CONFLICT',
    });
  });

  test('fail/an unopenable path is a StorageError', () => {
    expect(() => openSqliteCaStorage({ path: tmp.path('missing/dir/x.sqlite') })).toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE' }),
    );
  });
});

describe('normaliseSerial', () => {
  test.each([
    ['ok/hex with colons and zeros', '00:0A:ff', '0aff'.replace(/^0+/, '')],
    ['ok/bigint', 255n, 'ff'],
    ['ok/bytes', Uint8Array.from([0, 1, 2]), '102'],
    ['ok/zero', '0000', '0'],
  ])('%s', (_name, input, expected) => {
    expect(normaliseSerial(input)).toBe(expected);
  });

  test('fail/not hex is a TypeError', () => {
    expect(() => normaliseSerial('xyz')).toThrow(TypeError);
  });
});

describe('openSqliteCaStorage on the sqlite subpath', () => {
  test('ok/orchard-mdm/sqlite exports the same function as the CA module', async () => {
    const subpath = await import('../../../src/storage/sqlite/index.js');
    expect(subpath.openSqliteCaStorage).toBe(openSqliteCaStorage);
  });
});
