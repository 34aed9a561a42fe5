/**
 * The latest push outcome per command target, on every adapter: recorded without touching the
 * target's status or `updatedAt`, read back by `findCommand` and `listForEnrollment`, ignored for
 * enrollments that are not targets, and checked for misuse.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { MdmStorage, TargetPushOutcome } from '../../src/storage/ports.js';
import { createSqliteStorage } from '../../src/storage/sqlite/index.js';

const T0 = Date.UTC(2026, 0, 1);

describe.each<[string, (clock: () => Date) => MdmStorage]>([
  ['memory', (clock) => createMemoryStorage({ clock })],
  ['sqlite', (clock) => createSqliteStorage({ path: ':memory:', clock, lastSeenFlushMs: 0 })],
])('push outcomes on command targets: %s', (_name, open) => {
  let store: MdmStorage;
  let now = T0;
  beforeEach(async () => {
    now = T0;
    store = open(() => new Date(now));
    await store.enqueue({ uuid: 'c1', requestType: 'X', body: new Uint8Array([1]) }, ['A', 'B']);
  });
  afterEach(async () => {
    await store.close();
  });

  test('ok/recorded per target, status and updatedAt untouched', async () => {
    const at = new Date(T0 + 5_000);
    const outcomes: TargetPushOutcome[] = [
      { enrollmentId: 'A', outcome: 'accepted', apnsId: 'id-1', at },
      { enrollmentId: 'B', outcome: 'failed', reason: 'Unregistered', at },
      { enrollmentId: 'not-a-target', outcome: 'no-token', at },
    ];
    expect(await store.recordPushOutcomes('c1', outcomes)).toBe(2);
    const record = await store.findCommand('c1');
    expect(record?.targets).toEqual([
      {
        enrollmentId: 'A',
        status: 'queued',
        updatedAt: new Date(T0),
        lastPush: { outcome: 'accepted', apnsId: 'id-1', at },
      },
      {
        enrollmentId: 'B',
        status: 'queued',
        updatedAt: new Date(T0),
        lastPush: { outcome: 'failed', reason: 'Unregistered', at },
      },
    ]);
    const listed = await store.listForEnrollment('B', { limit: 10 });
    expect(listed.items[0]?.lastPush).toEqual({ outcome: 'failed', reason: 'Unregistered', at });
  });

  test('ok/a later push replaces the earlier outcome', async () => {
    await store.recordPushOutcomes('c1', [
      { enrollmentId: 'A', outcome: 'deferred', reason: 'CircuitOpen', at: new Date(T0 + 1) },
    ]);
    await store.recordPushOutcomes('c1', [
      { enrollmentId: 'A', outcome: 'accepted', at: new Date(T0 + 2) },
    ]);
    const target = (await store.findCommand('c1'))?.targets[0];
    expect(target?.lastPush).toEqual({ outcome: 'accepted', at: new Date(T0 + 2) });
  });

  test('ok/an unknown command records nothing; a target never pushed has no lastPush', async () => {
    const at = new Date(T0);
    expect(
      await store.recordPushOutcomes('nope', [{ enrollmentId: 'A', outcome: 'accepted', at }]),
    ).toBe(0);
    expect((await store.findCommand('c1'))?.targets[0]).not.toHaveProperty('lastPush');
  });

  test.each<[string, string, TargetPushOutcome[]]>([
    ['fail/empty uuid', '', []],
    [
      'fail/unknown outcome',
      'c1',
      [{ enrollmentId: 'A', outcome: 'sent' as never, at: new Date() }],
    ],
    ['fail/invalid date', 'c1', [{ enrollmentId: 'A', outcome: 'failed', at: new Date(NaN) }]],
    ['fail/empty enrollment id', 'c1', [{ enrollmentId: '', outcome: 'failed', at: new Date() }]],
  ])('%s is a TypeError', async (_case, uuid, outcomes) => {
    await expect(store.recordPushOutcomes(uuid, outcomes)).rejects.toThrow(TypeError);
  });
});
