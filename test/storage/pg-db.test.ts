/**
 * The PostgreSQL adapter's transaction helper when the connection dies inside a transaction: the
 * caller gets StorageError (503), the dead connection is dropped rather than rolled back, and
 * the next transaction on the pool works.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createPool } from '../../src/storage/postgres/connection.js';
import { isConnectionLost, tx, type PgContext } from '../../src/storage/postgres/db.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
let ctx: PgContext;

beforeAll(async () => {
  db = await createTestDatabase('pgdb');
  ctx = {
    pool: createPool({ url: db.url, pool: { max: 2 } }),
    clock: () => new Date(),
    closed: false,
  };
});

afterAll(async () => {
  await ctx.pool.end();
  await db.drop();
});

test('ok/connection-level failures are told apart from statement failures', () => {
  expect(isConnectionLost(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
  expect(isConnectionLost(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
  expect(isConnectionLost(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
  expect(isConnectionLost(new Error('Query read timeout'))).toBe(true);
  expect(isConnectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isConnectionLost(Object.assign(new Error('dup'), { code: '23505' }))).toBe(false);
  expect(isConnectionLost(Object.assign(new Error('ser'), { code: '40001' }))).toBe(false);
  expect(isConnectionLost(new TypeError('bad input'))).toBe(false);
});

test('fail/a backend killed inside a transaction: StorageError, and the pool carries on', async () => {
  await expect(
    tx(ctx, async (client) => {
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
        ?.pid;
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      await client.query('SELECT 1');
    }),
  ).rejects.toMatchObject({ code: 'ERR_STORAGE', status: 503 });
  const value = await tx(
    ctx,
    async (client) => (await client.query<{ v: number }>('SELECT 41 + 1 AS v')).rows[0],
  );
  expect(value).toEqual({ v: 42 });
});
