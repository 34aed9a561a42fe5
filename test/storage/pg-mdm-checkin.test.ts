/**
 * PostgreSQL-only behaviour of the check-in stores: last-seen instants buffered and written by
 * several daemons at once (no deadlock, never backwards), certificate bindings changed by two
 * pools at once, the binding details (same answers as the memory adapter), id order of listing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { CertBindingStore, MdmStorage } from '../../src/storage/ports.js';
import { createPostgresStorage } from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { createTestClock } from './conformance.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('mdm_checkin');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.reset();
});

const open = (options: { lastSeenFlushMs?: number; clock?: () => Date } = {}) =>
  createPostgresStorage({ url: db.url, pool: { max: 3 }, ...options });

async function authenticate(store: MdmStorage, ids: readonly string[]): Promise<void> {
  for (const id of ids)
    await store.storeAuthenticate({ id, type: 'device', deviceId: id, facts: {} });
}

async function storedLastSeen(): Promise<Map<string, number | null>> {
  const rows = await db.query<{ id: string; t: Date | null }>(
    'SELECT id, last_seen_at AS t FROM enrollments',
  );
  return new Map(rows.map((r) => [r.id, r.t === null ? null : r.t.getTime()]));
}

describe('postgres last seen', () => {
  test('ok/last-seen writes are buffered, read back at once, and flushed on close', async () => {
    const store = await open({ lastSeenFlushMs: 60_000 });
    await authenticate(store, ['A', 'B']);
    const at = new Date(Date.UTC(2026, 3, 1));
    await store.touchLastSeen(['A', 'B', 'nobody'], at);
    expect((await store.findEnrollment('A'))?.lastSeenAt).toEqual(at);
    expect((await store.findEnrollments(['B']))[0]?.lastSeenAt).toEqual(at);
    expect((await store.listEnrollments({ limit: 5 })).items.map((e) => e.lastSeenAt)).toEqual([
      at,
      at,
    ]);
    expect(await storedLastSeen()).toEqual(
      new Map([
        ['A', null],
        ['B', null],
      ]),
    );
    await store.close();
    const t = at.getTime();
    expect(await storedLastSeen()).toEqual(
      new Map([
        ['A', t],
        ['B', t],
      ]),
    );
  });

  test('ok/a buffered instant older than one another daemon wrote never moves it backwards', async () => {
    const buffered = await open({ lastSeenFlushMs: 60_000 });
    const through = await open({ lastSeenFlushMs: 0 });
    await authenticate(through, ['A']);
    const older = new Date(Date.UTC(2026, 3, 1));
    const newer = new Date(older.getTime() + 60_000);
    await buffered.touchLastSeen(['A'], older);
    await through.touchLastSeen(['A'], newer);
    await buffered.close();
    expect(await storedLastSeen()).toEqual(new Map([['A', newer.getTime()]]));
    expect((await through.findEnrollment('A'))?.lastSeenAt).toEqual(newer);
    await through.close();
  });

  test('ok/two daemons writing overlapping ids in opposite orders at once never deadlock; the latest instant wins', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `D-${String(i).padStart(3, '0')}`);
    const first = await open({ lastSeenFlushMs: 0 });
    const second = await open({ lastSeenFlushMs: 0 });
    await db.query(
      `INSERT INTO enrollments (id, type, device_id, created_at, updated_at)
       SELECT id, 'device', id, $2, $2 FROM unnest($1::text[]) AS id`,
      [ids, new Date(0)],
    );
    const base = Date.UTC(2026, 3, 1);
    const reversed = [...ids].reverse();
    const writes: Promise<void>[] = [];
    for (let round = 0; round < 10; round++) {
      writes.push(first.touchLastSeen(ids, new Date(base + round * 2)));
      writes.push(second.touchLastSeen(reversed, new Date(base + round * 2 + 1)));
    }
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    const latest = base + 19;
    expect(new Set((await storedLastSeen()).values())).toEqual(new Set([latest]));
    await first.close();
    await second.close();
  });
});

describe('postgres check-ins from several daemons', () => {
  test('ok/token updates and merged facts of one device from two pools at once all count', async () => {
    const a = await open();
    const b = await open();
    await authenticate(a, ['A']);
    const push = { token: 'ab', pushMagic: 'm', topic: 't' };
    const updates = Array.from({ length: 10 }, (_, i) =>
      (i % 2 === 0 ? a : b).storeTokenUpdate({
        ...{ id: 'A', type: 'device', deviceId: 'A', push },
        facts: { [`t${i}`]: i },
      }),
    );
    const merges = Array.from({ length: 10 }, (_, i) =>
      (i % 2 === 0 ? b : a).mergeFacts('A', { [`m${i}`]: i }),
    );
    await Promise.all([...updates, ...merges]);
    const record = await a.findEnrollment('A');
    expect(record?.tokenUpdateCount).toBe(10);
    const keys = Array.from({ length: 10 }, (_, i) => [`t${i}`, `m${i}`]).flat();
    expect(Object.keys(record?.facts ?? {}).sort()).toEqual(keys.sort());
    await a.close();
    await b.close();
  });
});

describe('postgres certificate bindings', () => {
  test('ok/two pools re-binding one enrollment at once leave one whole binding, found by its hash', async () => {
    const a = await open();
    const b = await open();
    const hashes = Array.from({ length: 12 }, (_, i) => `hash-${i}`);
    await Promise.all(
      hashes.map((h, i) => (i % 2 === 0 ? a : b).bindCertificate('E', h, { serial: h })),
    );
    const binding = await a.findCertificateBinding('E');
    expect(binding?.serial).toBe(binding?.certHash);
    const found = await Promise.all(hashes.map((h) => b.findEnrollmentByCertificate(h)));
    expect(found.filter((id) => id === 'E')).toHaveLength(1);
    expect(found[hashes.indexOf(binding?.certHash ?? '')]).toBe('E');
    expect(await db.query('SELECT COUNT(*)::int AS n FROM cert_bindings')).toEqual([{ n: 1 }]);
    await a.close();
    await b.close();
  });

  /** Runs the binding-details scenario on `store`; resolves what each step answered. */
  async function details(store: CertBindingStore, clock: ReturnType<typeof createTestClock>) {
    const t = (ms: number): Date => new Date(Date.UTC(2026, 5, 1) + ms);
    const answers: unknown[] = [];
    await store.bindCertificate('A', 'ha', { serial: '1a', notAfter: t(3000) });
    await store.bindCertificate('B', 'hb', { notAfter: t(1000) });
    await store.bindCertificate('C', 'hc', { serial: '1c', notAfter: t(2000) });
    await store.bindCertificate('D', 'hd');
    await store.bindCertificate('F', 'hf', { notAfter: t(500) });
    answers.push(await store.endCertificateBinding('F', t(1)));
    answers.push(await store.endCertificateBinding('F', t(2)));
    answers.push(await store.endCertificateBinding('none', t(2)));
    answers.push(await store.allowReenrollment('A', t(10)));
    answers.push(await store.allowReenrollment('none', t(10)));
    answers.push(await store.recordIdentityRenewal('B', { commandUuid: 'r-b', requestedAt: t(5) }));
    answers.push(
      await store.recordIdentityRenewal('C', { commandUuid: 'r-c', requestedAt: t(50) }),
    );
    answers.push(await store.recordIdentityRenewal('none', undefined));
    answers.push(await store.listExpiringBindings(t(5000), { limit: 10 }));
    answers.push(await store.listExpiringBindings(t(2500), { limit: 2 }));
    answers.push(
      await store.listExpiringBindings(t(5000), { limit: 10, renewalRequestedBefore: t(20) }),
    );
    answers.push(await store.findCertificateBinding('F'));
    clock.advance(1000);
    answers.push(await store.recordIdentityRenewal('C', undefined));
    answers.push(await store.allowReenrollment('A', undefined));
    answers.push(await store.findCertificateBinding('A'));
    answers.push(await store.findCertificateBinding('C'));
    await store.bindCertificate('B', 'hb2', { serial: '2b' });
    await store.bindCertificate('F', 'hf2');
    answers.push(await store.findCertificateBinding('B'));
    answers.push(await store.findCertificateBinding('F'));
    answers.push(await store.findEnrollmentByCertificate('hb'));
    await expect(store.listExpiringBindings(t(0), { limit: 0 })).rejects.toBeInstanceOf(TypeError);
    await expect(store.bindCertificate('', 'h')).rejects.toBeInstanceOf(TypeError);
    return answers;
  }

  test('ok/ends, re-enrollment windows, renewals and expiring lists answer as the memory adapter does; a re-binding starts clean', async () => {
    const pgClock = createTestClock();
    const store = await open({ clock: pgClock.now });
    const memoryClock = createTestClock();
    const memory = createMemoryStorage({ clock: memoryClock.now });
    const got = await details(store, pgClock);
    expect(got).toEqual(await details(memory, memoryClock));
    const t = (ms: number): Date => new Date(Date.UTC(2026, 5, 1) + ms);
    expect(got.slice(0, 8)).toEqual([true, true, false, true, false, true, true, false]);
    const ids = (list: unknown) => (list as { enrollmentId: string }[]).map((b) => b.enrollmentId);
    expect(ids(got[8])).toEqual(['B', 'C', 'A']);
    expect(ids(got[9])).toEqual(['B', 'C']);
    expect(ids(got[10])).toEqual(['B', 'A']);
    expect(got[11]).toMatchObject({ endedAt: t(1) });
    expect(got[16]).toEqual({
      enrollmentId: 'B',
      certHash: 'hb2',
      serial: '2b',
      boundAt: pgClock.now(),
    });
    expect(got[17]).toEqual({ enrollmentId: 'F', certHash: 'hf2', boundAt: pgClock.now() });
    expect(got[18]).toBeUndefined();
    expect(got[14]).toEqual({
      enrollmentId: 'A',
      certHash: 'ha',
      serial: '1a',
      notAfter: t(3000),
      boundAt: new Date(Date.UTC(2026, 0, 1)),
    });
    expect(got[15]).not.toHaveProperty('renewal');
    await store.close();
    await memory.close();
  });
});

describe('postgres enrollment listing', () => {
  test('ok/enrollments are listed in byte order of their ids (as SQLite and the memory adapter)', async () => {
    const store = await open();
    const ids = ['b', 'B', 'a-2', 'a:1', 'A', 'é', 'z', '_'];
    await authenticate(store, ids);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listEnrollments(
        cursor === undefined ? { limit: 3 } : { limit: 3, cursor },
      );
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual([...ids].sort());
    await store.close();
  });
});
