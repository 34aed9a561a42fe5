/**
 * The CA storage conformance suite: the certificate authority's records ({@link CertificateStore})
 * and the one-time SCEP challenges ({@link ChallengeStore}), which every adapter (memory, SQLite,
 * later PostgreSQL) must pass. Call `runCaConformance(name, factory)` from a `*.test.ts`; the
 * factory returns fresh, empty stores per test.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { CertificateAuthorityError } from '../../src/errors.js';
import { challengeDigest } from '../../src/identity/scep/challenge.js';
import type {
  CertificateStore,
  ChallengeStore,
  IssuedCertificate,
} from '../../src/storage/ports.js';

/** What a CA adapter hands out: both stores and a `close` ending them. */
export interface CaStores {
  certificates: CertificateStore;
  challenges: ChallengeStore;
  close(): void | Promise<void>;
}

/** Makes fresh, empty CA stores. */
export type CaStorageFactory = () => CaStores | Promise<CaStores>;

/** An issued-certificate record for `serial` (its DER is the serial's bytes). */
export function issuedRecord(
  serial: string,
  extra: Partial<IssuedCertificate> = {},
): IssuedCertificate {
  return {
    serial,
    subject: `CN=${serial}`,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
    issuedAt: new Date('2026-01-01T00:00:00Z'),
    der: Buffer.from(serial.length % 2 ? `0${serial}` : serial, 'hex'),
    ...extra,
  };
}

const T = (iso: string): Date => new Date(iso);

function certificateSuite(open: () => CaStores): void {
  describe('CertificateStore', () => {
    test('ok/records and finds, whatever the serial spelling', async () => {
      const { certificates } = open();
      const extra = { enrollmentId: 'e1', certId: 'c-1', renewalOf: '99' };
      await certificates.recordIssued(issuedRecord('4a0b', extra));
      const found = await certificates.findIssued('00:4A:0B');
      expect(found).toEqual({ ...issuedRecord('4a0b'), ...extra });
      expect(found?.der.equals(Buffer.from('4a0b', 'hex'))).toBe(true);
      expect(await certificates.findIssued('ffff')).toBeUndefined();
    });

    test('ok/the serial is kept normalised and optional fields stay absent', async () => {
      const { certificates } = open();
      await certificates.recordIssued(issuedRecord('00AB'));
      const found = await certificates.findIssued('ab');
      expect(found?.serial).toBe('ab');
      expect(Object.keys(found ?? {}).sort()).toEqual(
        ['der', 'issuedAt', 'notAfter', 'notBefore', 'serial', 'subject'].sort(),
      );
    });

    test('ok/a record is issued unrevoked: only revoke() revokes', async () => {
      const { certificates } = open();
      const revoked = { revokedAt: T('2026-02-01T00:00:00Z'), revocationReason: 'superseded' };
      await certificates.recordIssued(issuedRecord('12', revoked));
      const found = await certificates.findIssued('12');
      expect(found?.revokedAt).toBeUndefined();
      expect(found?.revocationReason).toBeUndefined();
    });

    test('ok/records handed out are copies', async () => {
      const { certificates } = open();
      const given = issuedRecord('34');
      await certificates.recordIssued(given);
      given.der.fill(0);
      const found = await certificates.findIssued('34');
      found?.notAfter.setTime(0);
      if (found) found.subject = 'CN=changed';
      expect(await certificates.findIssued('34')).toEqual(issuedRecord('34'));
    });

    test('fail/a duplicate serial is ERR_CA_SERIAL_CONFLICT, and the first record stays', async () => {
      const { certificates } = open();
      await certificates.recordIssued(issuedRecord('77'));
      const dup = certificates.recordIssued(issuedRecord('0077', { subject: 'CN=other' }));
      await expect(dup).rejects.toBeInstanceOf(CertificateAuthorityError);
      await expect(dup).rejects.toMatchObject({ code: 'ERR_CA_SERIAL_CONFLICT' });
      expect((await certificates.findIssued('77'))?.subject).toBe('CN=77');
      expect(await certificates.countIssued()).toBe(1);
    });

    test('ok/revocation keeps its first time and reason; unknown serials answer false', async () => {
      const { certificates } = open();
      await certificates.recordIssued(issuedRecord('0a'));
      expect(await certificates.revoke('0a', T('2026-02-01T00:00:00Z'), 'keyCompromise')).toBe(
        true,
      );
      expect(await certificates.revoke('0A', T('2026-03-01T00:00:00Z'), 'superseded')).toBe(true);
      const r = await certificates.findIssued('0a');
      expect(r?.revokedAt).toEqual(T('2026-02-01T00:00:00Z'));
      expect(r?.revocationReason).toBe('keyCompromise');
      expect(await certificates.revoke('0b', new Date(), undefined)).toBe(false);
    });

    test('ok/isRevoked agrees with the record: unknown and unrevoked serials are false', async () => {
      const { certificates } = open();
      if (certificates.isRevoked === undefined) throw new Error('every adapter has isRevoked');
      await certificates.recordIssued(issuedRecord('0d'));
      await certificates.recordIssued(issuedRecord('0e'));
      await certificates.revoke('0d', T('2026-02-01T00:00:00Z'));
      expect(await certificates.isRevoked('0d')).toBe(true);
      expect(await certificates.isRevoked('000D')).toBe(true);
      expect(await certificates.isRevoked('0e')).toBe(false);
      expect(await certificates.isRevoked('0f')).toBe(false);
    });

    test('ok/a revocation without a reason keeps its time and takes a later reason', async () => {
      const { certificates } = open();
      await certificates.recordIssued(issuedRecord('0c'));
      await certificates.revoke('0c', T('2026-02-01T00:00:00Z'));
      expect((await certificates.findIssued('0c'))?.revocationReason).toBeUndefined();
      await certificates.revoke('0c', T('2026-03-01T00:00:00Z'), 'keyCompromise');
      const r = await certificates.findIssued('0c');
      expect(r?.revokedAt).toEqual(T('2026-02-01T00:00:00Z'));
      expect(r?.revocationReason).toBe('keyCompromise');
    });

    test('ok/lists in numeric serial order with keyset pages and enrollment filter', async () => {
      const { certificates } = open();
      for (const s of ['ff', '1', '100', '20', 'abc'])
        await certificates.recordIssued(issuedRecord(s, s === '20' ? { enrollmentId: 'x' } : {}));
      const page1 = await certificates.listIssued({ limit: 3 });
      expect(page1.map((r) => r.serial)).toEqual(['1', '20', 'ff']);
      const page2 = await certificates.listIssued({ limit: 3, after: '00FF' });
      expect(page2.map((r) => r.serial)).toEqual(['100', 'abc']);
      const mine = await certificates.listIssued({ enrollmentId: 'x' });
      expect(mine.map((r) => r.serial)).toEqual(['20']);
      const afterMine = await certificates.listIssued({ enrollmentId: 'x', after: '20' });
      expect(afterMine).toEqual([]);
      expect(await certificates.countIssued()).toBe(5);
    });

    test('ok/a list is 100 records unless a limit is given', async () => {
      const { certificates } = open();
      for (let i = 1; i <= 101; i++) await certificates.recordIssued(issuedRecord(i.toString(16)));
      expect(await certificates.listIssued()).toHaveLength(100);
      expect(await certificates.listIssued({ limit: 101 })).toHaveLength(101);
    });

    test.each([
      ['findIssued', (c: CertificateStore) => c.findIssued('xyz')],
      ['revoke', (c: CertificateStore) => c.revoke('0x12', new Date())],
      ['listIssued after', (c: CertificateStore) => c.listIssued({ after: 'g1' })],
      ['recordIssued', (c: CertificateStore) => c.recordIssued(issuedRecord('', { serial: 'q' }))],
    ])('fail/%s with a serial that is not hex rejects with TypeError', async (_, call) => {
      const { certificates } = open();
      await expect(call(certificates)).rejects.toBeInstanceOf(TypeError);
    });
  });
}

function challengeSuite(open: () => CaStores): void {
  const now = T('2026-05-01T12:00:00Z');
  const later = (s: number): Date => new Date(now.getTime() + s * 1000);

  describe('ChallengeStore', () => {
    test('ok/a challenge is consumed exactly once, with what was stored', async () => {
      const { challenges } = open();
      const digest = challengeDigest('abc');
      await challenges.put({ digest, enrollmentId: 'enr-1', expiresAt: later(60) });
      expect(await challenges.consume(digest, now)).toEqual({
        digest,
        enrollmentId: 'enr-1',
        expiresAt: later(60),
      });
      expect(await challenges.consume(digest, now)).toBeUndefined();
      await challenges.put({ digest: challengeDigest('bare'), expiresAt: later(60) });
      const bare = await challenges.consume(challengeDigest('bare'), now);
      expect(Object.keys(bare ?? {}).sort()).toEqual(['digest', 'expiresAt']);
    });

    test('ok/putting a digest again replaces the stored challenge', async () => {
      const { challenges } = open();
      const digest = challengeDigest('again');
      await challenges.put({ digest, enrollmentId: 'first', expiresAt: later(10) });
      await challenges.put({ digest, enrollmentId: 'second', expiresAt: later(100) });
      expect(await challenges.consume(digest, later(50))).toMatchObject({ enrollmentId: 'second' });
    });

    test('fail/an expired challenge (at its expiry instant) is refused and gone afterwards', async () => {
      const { challenges } = open();
      const digest = challengeDigest('old');
      await challenges.put({ digest, expiresAt: later(60) });
      expect(await challenges.consume(digest, later(60))).toBeUndefined();
      expect(await challenges.consume(digest, now)).toBeUndefined();
    });

    test('fail/an unknown digest is refused', async () => {
      const { challenges } = open();
      await challenges.put({ digest: challengeDigest('known'), expiresAt: later(60) });
      expect(await challenges.consume(challengeDigest('unknown'), now)).toBeUndefined();
    });

    test('ok/purge removes only expired challenges, counting them', async () => {
      const { challenges } = open();
      await challenges.put({ digest: challengeDigest('a'), expiresAt: later(10) });
      await challenges.put({ digest: challengeDigest('b'), expiresAt: later(50) });
      await challenges.put({ digest: challengeDigest('c'), expiresAt: later(100) });
      expect(await challenges.purgeExpired(later(50))).toBe(2);
      expect(await challenges.purgeExpired(later(50))).toBe(0);
      expect(await challenges.consume(challengeDigest('c'), later(50))).toBeDefined();
    });
  });
}

/** Runs the whole CA conformance suite against the adapter `factory` makes. */
export function runCaConformance(name: string, factory: CaStorageFactory): void {
  describe(`CA storage conformance: ${name}`, () => {
    let current: CaStores | undefined;
    const open = (): CaStores => {
      if (current === undefined) throw new Error('stores not ready');
      return current;
    };
    beforeEach(async () => {
      current = await factory();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });
    certificateSuite(open);
    challengeSuite(open);

    test('fail/every call after close rejects with ERR_STORAGE', async () => {
      const stores = open();
      const { certificates, challenges } = stores;
      await stores.close();
      const calls: (() => Promise<unknown>)[] = [
        () => certificates.recordIssued(issuedRecord('01')),
        () => certificates.findIssued('01'),
        () => certificates.revoke('01', new Date()),
        () => certificates.listIssued(),
        () => certificates.countIssued(),
        () => challenges.put({ digest: challengeDigest('x'), expiresAt: new Date() }),
        () => challenges.consume(challengeDigest('x'), new Date()),
        () => challenges.purgeExpired(new Date()),
      ];
      for (const call of calls)
        await expect(call()).rejects.toMatchObject({ code: 'ERR_STORAGE', status: 503 });
    });
  });
}
