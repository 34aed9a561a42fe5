/**
 * Area C's one-time steps across pools: two stores on one PostgreSQL database (as two daemons
 * would hold) race for the same SCEP challenge, setup token, single-use link, personal link,
 * rotation and session; exactly one wins each. Also: audit numbers from both stay distinct and
 * ordered, and a key is never left active on an administrator disabled meanwhile.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { challengeDigest } from '../../src/identity/scep/challenge.js';
import {
  openPostgresAdminStore,
  openPostgresCaStorage,
  type PostgresCaStorage,
} from '../../src/storage/postgres/index.js';
import type { AdminStorage, NewEnrollmentToken } from '../../src/storage/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

/** Waits (by polls, at most `polls`) until `n` statements on the test database wait for a lock. */
async function lockWaiters(n: number, polls = 1000): Promise<void> {
  for (let i = 0; i < polls; i++) {
    const rows = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = $1 AND wait_event_type = 'Lock'`,
      [db.name],
    );
    if (rows[0]?.n === n) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no ${String(n)} lock waiters after ${String(polls)} polls`);
}

let db: TestDatabase;
let a: AdminStorage;
let b: AdminStorage;

const now = new Date('2026-06-01T12:00:00Z');
const later = new Date(now.getTime() + 60_000);
const ROUNDS = 10;

/** Both stores' answers to `call(store, i)` for i in 0..ROUNDS-1, all started together. */
async function race<T>(call: (store: AdminStorage, i: number) => Promise<T>): Promise<T[][]> {
  const all = Array.from({ length: ROUNDS }, (_, i) => Promise.all([call(a, i), call(b, i)]));
  return Promise.all(all);
}

/** How many of each round's two answers won (per `won`). */
function winners<T>(rounds: T[][], won: (answer: T) => boolean): number[] {
  return rounds.map((pair) => pair.filter(won).length);
}

const personal = (hash: string, userId: string): NewEnrollmentToken => ({
  ...{ hash, singleUse: false, kind: 'personal', userId, groupId: 'global' },
  secret: `secret-${hash}`,
});

beforeAll(async () => {
  db = await createTestDatabase('admin_race');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.reset();
  const clock = (): Date => now;
  a = await openPostgresAdminStore({ url: db.url, clock, pool: { max: 4 } });
  b = await openPostgresAdminStore({ url: db.url, clock, pool: { max: 4 } });
});

afterEach(() => {
  a.close();
  b.close();
});

describe('two admin stores on one database', () => {
  test('ok/racing for one setup token, exactly one consumer wins each', async () => {
    for (let i = 0; i < ROUNDS; i++)
      await a.createSetupToken({
        ...{ hash: `t${String(i)}`, subject: 'user', subjectId: 'usr_1' },
        ...{ createdAt: now, expiresAt: later },
      });
    const rounds = await race((s, i) => s.consumeSetupToken(`t${String(i)}`, now));
    expect(winners(rounds, (r) => r !== undefined)).toEqual(Array(ROUNDS).fill(1));
    const used = await db.query(
      'SELECT hash FROM orchard_password_setup_tokens WHERE used_at IS NULL',
    );
    expect(used).toEqual([]);
  });

  test('ok/racing to enroll with one single-use link, exactly one wins each', async () => {
    const ids: string[] = [];
    for (let i = 0; i < ROUNDS; i++)
      ids.push((await a.createEnrollmentToken({ hash: `h${String(i)}`, singleUse: true })).id);
    const rounds = await race((s, i) => s.redeemEnrollmentToken(ids[i] ?? '', now));
    expect(winners(rounds, (r) => r !== undefined)).toEqual(Array(ROUNDS).fill(1));
    for (const id of ids)
      expect(await b.findEnrollmentToken(id)).toMatchObject({ enrollments: 1, enrolledAt: now });
    expect(await b.downloadEnrollmentToken('h0', now)).toBeUndefined();
  });

  test('ok/downloads of a multi-use link racing on two pools are all counted', async () => {
    const link = await a.createEnrollmentToken({ hash: 'many', singleUse: false });
    const rounds = await race((s) => s.downloadEnrollmentToken('many', now));
    expect(winners(rounds, (r) => r !== undefined)).toEqual(Array(ROUNDS).fill(2));
    expect(await a.findEnrollmentToken(link.id)).toMatchObject({ uses: 2 * ROUNDS });
  });

  test('ok/racing to create a personal link for one user, exactly one is stored', async () => {
    const rounds = await race((s, i) =>
      s
        .createEnrollmentToken(personal(`p${s === a ? 'a' : 'b'}${String(i)}`, `usr_${String(i)}`))
        .then(
          (r) => r,
          (e: unknown) => e,
        ),
    );
    expect(winners(rounds, (r) => !(r instanceof Error))).toEqual(Array(ROUNDS).fill(1));
    for (const pair of rounds)
      expect(pair.find((r) => r instanceof Error)).toBeInstanceOf(TypeError);
    const active = await db.query(
      "SELECT user_id FROM orchard_admin_enrollment_tokens WHERE kind = 'personal' AND revoked_at IS NULL",
    );
    expect(active).toHaveLength(ROUNDS);
  });

  test('ok/racing to rotate one link, exactly one rotation happens', async () => {
    const ids: string[] = [];
    for (let i = 0; i < ROUNDS; i++)
      ids.push((await a.createEnrollmentToken(personal(`old${String(i)}`, `usr_${String(i)}`))).id);
    const rounds = await race((s, i) =>
      s.rotateEnrollmentToken(
        ids[i] ?? '',
        personal(`n${s === a ? 'a' : 'b'}${String(i)}`, `usr_${String(i)}`),
        now,
      ),
    );
    expect(winners(rounds, (r) => r !== undefined)).toEqual(Array(ROUNDS).fill(1));
    const rows = await db.query('SELECT id FROM orchard_admin_enrollment_tokens');
    expect(rows).toHaveLength(2 * ROUNDS);
  });

  test('ok/racing to end one session, exactly one delete reports it', async () => {
    for (let i = 0; i < ROUNDS; i++)
      await a.createWebSession({
        ...{ idHash: `s${String(i)}`, kind: 'console', subjectId: 'owner' },
        ...{ createdAt: now, expiresAt: later, lastSeenAt: now },
      });
    const rounds = await race((s, i) => s.deleteWebSession(`s${String(i)}`));
    expect(winners(rounds, (r) => r)).toEqual(Array(ROUNDS).fill(1));
  });

  test('ok/audit entries written by both stores get distinct numbers, listed newest first', async () => {
    const rounds = await race((s, i) =>
      s.audit({ actor: s === a ? 'a' : 'b', action: 'x', target: String(i), detail: { i } }),
    );
    const seqs = rounds.flat().map((e) => e.seq);
    expect(new Set(seqs).size).toBe(2 * ROUNDS);
    const listed = (await a.listAudit({ limit: 100 })).items.map((e) => e.seq);
    expect(listed).toEqual([...seqs].sort((x, y) => y - x));
    const next = await b.audit({ actor: 'b', action: 'y', target: 't', detail: {} });
    expect(next.seq).toBeGreaterThan(Math.max(...seqs));
  });

  test('ok/a key created while its administrator is disabled never stays active', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const p = await a.createPrincipal({ name: `p${String(i)}`, role: 'full', groupId: 'global' });
      const [key, disabled] = await Promise.all([
        a.createApiKey({ name: 'k', scope: 'read', hash: `k${String(i)}`, principalId: p.id }).then(
          (r) => r,
          (e: unknown) => e,
        ),
        b.disablePrincipal(p.id, now),
      ]);
      expect(disabled).toBe(true);
      if (key instanceof Error) expect(key).toBeInstanceOf(TypeError);
      expect(await b.findApiKeyByHash(`k${String(i)}`)).toBeUndefined();
    }
  });
});

test('ok/a key asked for while a disable is uncommitted waits for it, then is refused', async () => {
  const p = await a.createPrincipal({ name: 'p', role: 'full', groupId: 'global' });
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query('UPDATE orchard_principals SET disabled_at = $1 WHERE id = $2', [now, p.id]);
    const key = a.createApiKey({ name: 'k', scope: 'read', hash: 'late', principalId: p.id }).then(
      (r) => r,
      (e: unknown) => e,
    );
    await lockWaiters(1);
    await other.query('COMMIT');
    expect(await key).toBeInstanceOf(TypeError);
    expect(await a.countActiveApiKeys()).toBe(0);
  } finally {
    await other.end();
  }
});

describe('two CA stores on one database', () => {
  let x: PostgresCaStorage;
  let y: PostgresCaStorage;

  beforeEach(async () => {
    x = await openPostgresCaStorage({ url: db.url, pool: { max: 4 } });
    y = await openPostgresCaStorage({ url: db.url, pool: { max: 4 } });
  });

  afterEach(async () => {
    await x.close();
    await y.close();
  });

  test('ok/racing for one SCEP challenge, exactly one consumer wins each', async () => {
    const digests = Array.from({ length: ROUNDS }, (_, i) => challengeDigest(`c${String(i)}`));
    for (const digest of digests)
      await x.challenges.put({ digest, enrollmentId: 'enr', expiresAt: later });
    const rounds = await Promise.all(
      digests.map((d) => Promise.all([x.challenges.consume(d, now), y.challenges.consume(d, now)])),
    );
    expect(winners(rounds, (r) => r !== undefined)).toEqual(Array(ROUNDS).fill(1));
    expect(await db.query('SELECT digest FROM orchard_ca_challenges')).toEqual([]);
  });

  test('fail/racing to record one serial, one record wins and the other is ERR_CA_SERIAL_CONFLICT', async () => {
    const record = (serial: string, subject: string) => ({
      ...{ serial, subject, notBefore: now, notAfter: later, issuedAt: now },
      der: Buffer.from(serial, 'hex'),
    });
    const rounds = await Promise.all(
      Array.from({ length: ROUNDS }, (_, i) => {
        const serial = (0x100 + i).toString(16);
        const settle = (p: Promise<void>) =>
          p.then(
            () => 'ok' as const,
            (e: unknown) => e,
          );
        return Promise.all([
          settle(x.certificates.recordIssued(record(serial, 'CN=x'))),
          settle(y.certificates.recordIssued(record(serial, 'CN=y'))),
        ]);
      }),
    );
    expect(winners(rounds, (r) => r === 'ok')).toEqual(Array(ROUNDS).fill(1));
    for (const pair of rounds)
      expect(pair.find((r) => r !== 'ok')).toMatchObject({ code: 'ERR_CA_SERIAL_CONFLICT' });
    expect(await x.certificates.countIssued()).toBe(ROUNDS);
  });
});
