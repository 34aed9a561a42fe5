/**
 * The ACME storage conformance suite against PostgreSQL: the store on a pool of its own and the
 * one `openPostgresDatabase` exposes, plus what only several pools can show (two daemons racing
 * for one nonce and one order transition; an order written all or nothing).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openPostgresAcmeStore, openPostgresDatabase } from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { orderFixture, runAcmeConformance } from './conformance-acme.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('acme');
});

afterAll(async () => {
  await db.drop();
});

const T0 = new Date('2026-12-01T10:00:00Z');

runAcmeConformance('postgres', async () => {
  await db.reset();
  return openPostgresAcmeStore({ url: db.url, pool: { max: 4 } });
});

runAcmeConformance('postgres, the database of every store', async () => {
  await db.reset();
  const all = await openPostgresDatabase({ url: db.url, pool: { max: 4 } });
  return { ...all.acme, close: () => all.close() };
});

describe('ACME on PostgreSQL: several pools', () => {
  test('ok/of two pools consuming one nonce twenty times exactly one call wins', async () => {
    await db.reset();
    const a = await openPostgresAcmeStore({ url: db.url, pool: { max: 4 } });
    const b = await openPostgresAcmeStore({ url: db.url, pool: { max: 4 } });
    try {
      await a.putNonce('shared', new Date(T0.getTime() + 60_000));
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).consumeNonce('shared', T0)),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      const pending = await db.query('SELECT 1 FROM orchard_acme_nonces');
      expect(pending).toHaveLength(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('ok/of two pools finalizing one order exactly one moves it to processing', async () => {
    await db.reset();
    const a = await openPostgresAcmeStore({ url: db.url, pool: { max: 4 } });
    const b = await openPostgresAcmeStore({ url: db.url, pool: { max: 4 } });
    try {
      const f = orderFixture('race');
      await a.createOrder(f.order, [f.authz], f.challenges);
      await b.updateOrder('race', ['pending'], { status: 'ready' });
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).updateOrder('race', ['ready'], { status: 'processing' }),
        ),
      );
      expect(outcomes.filter((o) => o !== undefined)).toHaveLength(1);
      expect((await a.findOrder('race'))?.status).toBe('processing');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('fail/an order whose challenge cannot be written leaves no order and no authorization', async () => {
    await db.reset();
    const store = await openPostgresAcmeStore({ url: db.url, pool: { max: 2 } });
    try {
      const f = orderFixture('half');
      const taken = orderFixture('other');
      await store.createOrder(taken.order, [taken.authz], taken.challenges);
      // The second challenge reuses an existing challenge id: the whole statement fails.
      const clash = f.challenges.map((c, i) =>
        i === 1 ? { ...c, id: taken.challenges[0]?.id ?? '' } : c,
      );
      await expect(store.createOrder(f.order, [f.authz], clash)).rejects.toThrow();
      expect(await store.findOrder('half')).toBeUndefined();
      expect(await store.findAuthorization(f.authz.id)).toBeUndefined();
      expect(await store.listChallenges(f.authz.id)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  test('ok/a problem and a device identifier holding U+0000 are stored with U+FFFD', async () => {
    await db.reset();
    const store = await openPostgresAcmeStore({ url: db.url, pool: { max: 2 } });
    try {
      const f = orderFixture('nul');
      const identifier = { type: 'permanent-identifier', value: 'dev\u0000ice' };
      await store.createOrder(
        { ...f.order, identifiers: [identifier] },
        [{ ...f.authz, identifier }],
        f.challenges,
      );
      expect((await store.findOrder('nul'))?.identifiers[0]?.value).toBe('dev\uFFFDice');
      expect((await store.findAuthorization(f.authz.id))?.identifier.value).toBe('dev\uFFFDice');
      const error = {
        type: 'urn:ietf:params:acme:error:malformed',
        detail: 'a\u0000b',
        status: 400,
      };
      const moved = await store.updateChallenge(f.challenges[0]?.id ?? '', ['pending'], {
        status: 'invalid',
        error,
      });
      expect(moved?.error?.detail).toBe('a\uFFFDb');
    } finally {
      await store.close();
    }
  });
});
