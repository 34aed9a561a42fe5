/**
 * Enrollment links as a library part: issued with their URL once, downloaded until spent, spent
 * by enrollment through `withEnrollmentLinks` (atomically, audited), and never past their expiry.
 */
import { describe, expect, test } from '@jest/globals';
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  hashApiKey,
  issueEnrollmentToken,
  linkChallengeTtl,
  linkTarget,
  silentLogger,
  StorageError,
  withEnrollmentLinks,
  type ChallengeValidator,
} from '../../src/index.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';

const T0 = new Date('2026-01-01T00:00:00Z');

function setup() {
  let now = T0;
  const clock = () => now;
  const admin = openSqliteAdminStore({ path: ':memory:', clock });
  return {
    admin,
    clock,
    advance: (seconds: number) => {
      now = new Date(now.getTime() + seconds * 1000);
    },
  };
}

const secretOf = (url: string): string => url.split('/enroll/')[1] ?? '';

describe('issueEnrollmentToken', () => {
  test('ok/the URL carries the secret once; the store keeps its hash and the default expiry', async () => {
    const { admin, clock } = setup();
    const { record, url } = await issueEnrollmentToken(admin, clock, 'https://mdm.example', {
      singleUse: true,
      user: 'alice',
    });
    expect(url).toMatch(/^https:\/\/mdm\.example\/enroll\/[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ singleUse: true, user: 'alice', uses: 0, enrollments: 0 });
    expect(record.expiresAt).toEqual(new Date(T0.getTime() + DEFAULT_TOKEN_TTL_SECONDS * 1000));
    expect((await admin.downloadEnrollmentToken(hashApiKey(secretOf(url)), T0))?.uses).toBe(1);
  });

  test('ok/0 s never expires; fail/an expired link is not downloaded', async () => {
    const { admin, clock } = setup();
    const forever = await issueEnrollmentToken(admin, clock, 'https://x', {
      singleUse: false,
      expiresInSeconds: 0,
    });
    expect(forever.record.expiresAt).toBeUndefined();
    const short = await issueEnrollmentToken(admin, clock, 'https://x', {
      singleUse: false,
      expiresInSeconds: 60,
    });
    const later = new Date(T0.getTime() + 61_000);
    expect(
      await admin.downloadEnrollmentToken(hashApiKey(secretOf(short.url)), later),
    ).toBeUndefined();
    expect(
      await admin.downloadEnrollmentToken(hashApiKey(secretOf(forever.url)), later),
    ).toBeDefined();
  });

  test.each([
    ['a link without expiry', undefined, 3600],
    ['a link expiring in 90 s', new Date(T0.getTime() + 90_000), 90],
    ['a link expiring now', T0, 1],
  ])('ok/linkChallengeTtl of %s', (_name, expiresAt, ttl) => {
    expect(linkChallengeTtl(expiresAt === undefined ? {} : { expiresAt }, T0, 3600)).toBe(ttl);
  });
});

describe('withEnrollmentLinks', () => {
  const accept =
    (enrollmentId: string): ChallengeValidator =>
    () =>
      Promise.resolve({ outcome: 'accept', enrollmentId });

  test('ok/a single-use link is spent by its first enrollment, audited; fail/then refused', async () => {
    const { admin, clock } = setup();
    const { record } = await issueEnrollmentToken(admin, clock, 'https://x', { singleUse: true });
    const validator = withEnrollmentLinks(accept(linkTarget(record.id)), { admin, clock });
    expect(await validator({} as never)).toMatchObject({ outcome: 'accept' });
    expect(await validator({} as never)).toMatchObject({ outcome: 'reject' });
    expect((await admin.findEnrollmentToken(record.id))?.enrollments).toBe(1);
    const entries = (await admin.listAudit({ limit: 10 })).items;
    expect(entries.map((e) => [e.actor, e.action, e.target])).toEqual([
      ['device', 'enrollment-token.enroll', record.id],
    ]);
  });

  test('fail/a failed audit write is logged with a logger, and rejects without one', async () => {
    const { admin, clock } = setup();
    const { record } = await issueEnrollmentToken(admin, clock, 'https://x', { singleUse: false });
    const failing = {
      ...admin,
      audit: () => Promise.reject(new StorageError('audit store down')),
    };
    const errors: unknown[] = [];
    const logger = { ...silentLogger, error: (obj: object) => errors.push(obj) };
    const logged = withEnrollmentLinks(accept(linkTarget(record.id)), {
      admin: failing,
      clock,
      logger,
    });
    expect(await logged({} as never)).toMatchObject({ outcome: 'accept' });
    expect(errors).toEqual([expect.objectContaining({ linkId: record.id })]);
    const bare = withEnrollmentLinks(accept(linkTarget(record.id)), { admin: failing, clock });
    await expect(bare({} as never)).rejects.toThrow(StorageError);
    expect((await admin.findEnrollmentToken(record.id))?.enrollments).toBe(2);
  });

  test('fail/a revoked or expired link refuses its challenges', async () => {
    const { admin, clock, advance } = setup();
    const revoked = (await issueEnrollmentToken(admin, clock, 'https://x', { singleUse: false }))
      .record;
    await admin.revokeEnrollmentToken(revoked.id);
    const expiring = (
      await issueEnrollmentToken(admin, clock, 'https://x', {
        singleUse: false,
        expiresInSeconds: 10,
      })
    ).record;
    advance(11);
    for (const id of [revoked.id, expiring.id])
      expect(
        await withEnrollmentLinks(accept(linkTarget(id)), { admin, clock })({} as never),
      ).toMatchObject({ outcome: 'reject' });
  });

  test('ok/decisions not bound to a link pass unchanged', async () => {
    const { admin, clock } = setup();
    const decision = await withEnrollmentLinks(accept('renewal:E1'), { admin, clock })({} as never);
    expect(decision).toEqual({ outcome: 'accept', enrollmentId: 'renewal:E1' });
    expect((await admin.listAudit({ limit: 10 })).items).toEqual([]);
  });
});
