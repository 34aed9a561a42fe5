/**
 * What the conformance suite cannot say about the PostgreSQL command queue and outbox: values
 * sealed at rest and bound to their rows, the next-command lookup's cost independent of finished
 * commands (read from the plan's buffer counts), bulk enqueue order, push outcomes in one
 * statement, claims through the open-entries index.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createSecretsKeyring, SecretsError } from '../../src/index.js';
import { HAS_PENDING, NEXT_COMMAND_SCAN } from '../../src/storage/postgres/commands.js';
import { createPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
const opened: PostgresStorage[] = [];
const T0 = new Date('2026-06-01T10:00:00.000Z');
const KEY = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(7) }]);
const SECRET = 'UNLOCK-TOKEN-0123456789';
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

async function open(withKey: boolean): Promise<PostgresStorage> {
  const store = await createPostgresStorage({
    url: db.url,
    clock: () => new Date(T0.getTime()),
    pool: { max: 2 },
    ...(withKey ? { secrets: KEY } : {}),
  });
  opened.push(store);
  return store;
}

beforeAll(async () => {
  db = await createTestDatabase('queue');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.reset();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function indexesOf(node: PlanNode): string[] {
  const own = node['Index Name'] === undefined ? [] : [node['Index Name']];
  return [...own, ...(node.Plans ?? []).flatMap(indexesOf)];
}

/** The plan of `sql` run for real, and the shared buffers it touched. */
async function explain(
  sql: string,
  values: unknown[],
): Promise<{ plan: PlanNode; blocks: number }> {
  const rows = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`,
    values,
  );
  const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
  if (plan === undefined) throw new Error('no plan');
  return { plan, blocks: (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0) };
}

describe('postgres command queue and outbox', () => {
  test('ok/with a keyring bodies, results and payloads are sealed at rest and read back', async () => {
    const store = await open(true);
    await store.enqueue({ uuid: 'c1', requestType: 'X', body: encode(`<${SECRET}>`) }, ['A', 'B']);
    await store.storeResult('A', { uuid: 'c1', status: 'Acknowledged', result: encode(SECRET) });
    const payload = JSON.stringify({ SECRET });
    await store.enqueueEvent({ id: 'ev', type: 'mdm.TokenUpdate', payload, createdAt: T0 });
    const raw = await db.query<{ v: Buffer }>(
      `SELECT body AS v FROM commands UNION ALL
       SELECT result FROM command_targets WHERE result IS NOT NULL UNION ALL
       SELECT payload FROM outbox`,
    );
    expect(raw).toHaveLength(3);
    for (const { v } of raw) expect(v.toString('latin1')).not.toContain(SECRET);
    expect((await store.nextCommand('B', { skipNotNow: false, now: T0 }))?.body).toEqual(
      encode(`<${SECRET}>`),
    );
    const record = await store.findCommand('c1');
    expect(record?.body).toEqual(encode(`<${SECRET}>`));
    expect(record?.targets.find((t) => t.enrollmentId === 'A')?.result).toEqual(encode(SECRET));
    expect((await store.claimDue(5, T0, 1000))[0]?.payload).toBe(payload);
    expect((await store.listForEnrollment('A', { limit: 5 })).items[0]?.result).toEqual(
      encode(SECRET),
    );
  });

  test('fail/a sealed result moved to another target does not open', async () => {
    const store = await open(true);
    await store.enqueue({ uuid: 'c1', requestType: 'X', body: encode('b') }, ['A', 'B']);
    await store.storeResult('A', { uuid: 'c1', status: 'Acknowledged', result: encode(SECRET) });
    await db.query(
      `UPDATE command_targets SET result = (SELECT result FROM command_targets
         WHERE enrollment_id = 'A') WHERE enrollment_id = 'B'`,
    );
    await expect(store.findCommand('c1')).rejects.toBeInstanceOf(SecretsError);
  });

  test('ok/without a keyring payloads are their UTF-8 bytes and bodies are stored as given', async () => {
    const store = await open(false);
    await store.enqueue({ uuid: 'c1', requestType: 'X', body: encode('<body/>') }, ['A']);
    await store.enqueueEvent({ id: 'ev', type: 't', payload: '{"é":1}', createdAt: T0 });
    const [row] = await db.query<{ payload: Buffer; body: Buffer }>(
      'SELECT payload, (SELECT body FROM commands) AS body FROM outbox',
    );
    expect(row?.payload.toString('utf8')).toBe('{"é":1}');
    expect(row?.body.toString('utf8')).toBe('<body/>');
  });

  test('ok/the next-command lookup reads the pending index; finished commands add no cost', async () => {
    const store = await open(false);
    await store.enqueue({ uuid: 'head', requestType: 'X', body: encode('x') }, ['DEV', 'SMALL']);
    const before = await explain(NEXT_COMMAND_SCAN, ['DEV', 0]);
    const idleBefore = await explain(HAS_PENDING, ['SMALL']);
    // 20,000 finished commands for DEV, older than its pending one.
    await db.query(
      `INSERT INTO commands (uuid, request_type, body, created_at)
       SELECT 'old-' || i, 'X', '\\x00', $1 FROM generate_series(1, 20000) i`,
      [T0],
    );
    await db.query(
      `INSERT INTO command_targets (command_uuid, enrollment_id, status, updated_at)
       SELECT 'old-' || i, 'DEV', 'Acknowledged', $1 FROM generate_series(1, 20000) i`,
      [T0],
    );
    await db.query('ANALYZE command_targets');
    await db.query('ANALYZE commands');
    const after = await explain(NEXT_COMMAND_SCAN, ['DEV', 0]);
    expect(indexesOf(after.plan)).toContain('command_targets_pending');
    expect(after.blocks).toBeLessThan(before.blocks + 10);
    // The idle pre-check too: DEV's 20,000 finished rows cost it nothing.
    const idleAfter = await explain(HAS_PENDING, ['DEV']);
    expect(indexesOf(idleAfter.plan)).toContain('command_targets_pending');
    expect(idleAfter.blocks).toBeLessThan(idleBefore.blocks + 10);
    expect((await store.nextCommand('DEV', { skipNotNow: false, now: T0 }))?.uuid).toBe('head');
  });

  test('ok/a bulk enqueue keeps the given order, drops duplicates, stores the command once', async () => {
    const store = await open(false);
    const ids = Array.from({ length: 3000 }, (_, i) => `E-${String((i * 7919) % 3001)}`);
    await store.enqueue({ uuid: 'bulk', requestType: 'X', body: encode('x') }, [...ids, ...ids]);
    const rows = await db.query<{ enrollment_id: string }>(
      'SELECT enrollment_id FROM command_targets ORDER BY seq',
    );
    expect(rows.map((r) => r.enrollment_id)).toEqual(ids);
    expect(await db.query('SELECT uuid FROM commands')).toEqual([{ uuid: 'bulk' }]);
  });

  test('ok/push outcomes for many targets are recorded at once; unknown and repeated ids count as elsewhere', async () => {
    const store = await open(false);
    await store.enqueue({ uuid: 'c1', requestType: 'X', body: encode('x') }, ['A', 'B', 'C']);
    const at = new Date(T0.getTime() + 5);
    const count = await store.recordPushOutcomes('c1', [
      { enrollmentId: 'B', outcome: 'failed', reason: 'BadDeviceToken', at },
      { enrollmentId: 'A', outcome: 'deferred', at },
      { enrollmentId: 'A', outcome: 'accepted', apnsId: 'apns-1', at },
      { enrollmentId: 'NONE', outcome: 'accepted', at },
    ]);
    expect(count).toBe(3);
    const targets = (await store.findCommand('c1'))?.targets ?? [];
    expect(targets).toEqual([
      {
        enrollmentId: 'A',
        status: 'queued',
        updatedAt: T0,
        lastPush: { outcome: 'accepted', apnsId: 'apns-1', at },
      },
      {
        enrollmentId: 'B',
        status: 'queued',
        updatedAt: T0,
        lastPush: { outcome: 'failed', reason: 'BadDeviceToken', at },
      },
      { enrollmentId: 'C', status: 'queued', updatedAt: T0 },
    ]);
    expect(
      await store.recordPushOutcomes('missing', [{ enrollmentId: 'A', outcome: 'accepted', at }]),
    ).toBe(0);
    expect(await store.recordPushOutcomes('c1', [])).toBe(0);
  });

  test('ok/an acknowledged result is never overwritten; a late NotNow on it is refused', async () => {
    const store = await open(false);
    await store.enqueue({ uuid: 'c1', requestType: 'X', body: encode('x') }, ['A']);
    const ack = { uuid: 'c1', status: 'Acknowledged' as const, result: encode('first') };
    expect(await store.storeResult('A', ack)).toBe(true);
    for (const status of ['Acknowledged', 'Error', 'CommandFormatError', 'NotNow'] as const) {
      expect(await store.storeResult('A', { uuid: 'c1', status, result: encode(status) })).toBe(
        false,
      );
    }
    expect((await store.findCommand('c1'))?.targets[0]).toMatchObject({
      status: 'Acknowledged',
      result: encode('first'),
    });
  });

  test('ok/claims read the open-entries index; delivered entries add no cost', async () => {
    const store = await open(false);
    await db.query(
      `INSERT INTO outbox (id, type, payload, created_at, next_attempt_at, delivered_at)
       SELECT 'old-' || i, 't', '\\x7b7d', $1, $1, $1 FROM generate_series(1, 20000) i`,
      [T0],
    );
    await db.query('ANALYZE outbox');
    await store.enqueueEvent({ id: 'new', type: 't', payload: '{}', createdAt: T0 });
    const claim = await explain(
      `SELECT seq FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL
         AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
       ORDER BY created_at, seq LIMIT 10`,
      [T0],
    );
    expect(indexesOf(claim.plan)).toContain('outbox_open');
    expect(claim.blocks).toBeLessThan(10);
    expect((await store.claimDue(10, T0, 1000)).map((e) => e.id)).toEqual(['new']);
    expect(await store.purgeDelivered(new Date(T0.getTime() + 1))).toBe(20_000);
  });
});
