/**
 * The core's pushes: queueing hands the push to the background (bounded concurrency and backlog)
 * and resolves before it is sent; outcomes are mapped per enrollment and recorded on the command;
 * `close()` waits for pushes in progress and defers those not started. Push functions here block
 * on promises the test releases, so nothing depends on timing.
 */
import { describe, expect, test } from '@jest/globals';
import type { PushProvider, PushResult, PushTarget } from '../../src/push/ports.js';
import { createMdmCore, type MdmCore } from '../../src/service/core.js';
import type { EnrollmentPushResult } from '../../src/service/core-context.js';
import { pushOutcomeOf } from '../../src/service/core-push.js';
import type { Logger } from '../../src/service/ports.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { MdmStorage } from '../../src/storage/ports.js';

const TOPIC = 'com.apple.mgmt.External.test';
const AT = new Date(Date.UTC(2026, 0, 1));
const COMMAND = { RequestType: 'ProfileList' } as const;

/** A push provider whose calls wait until the test settles them. */
function heldPush() {
  const calls: {
    targets: PushTarget[];
    settle: (r: PushResult[]) => void;
    fail: (e: Error) => void;
  }[] = [];
  const push: PushProvider = {
    push: (targets) =>
      new Promise((settle, fail) => {
        calls.push({ targets: [...targets], settle, fail });
      }),
  };
  const sent = (c: { targets: PushTarget[] }): PushResult[] =>
    c.targets.map((t) => ({
      enrollmentId: t.enrollmentId,
      outcome: 'sent',
      apnsId: `id-${t.enrollmentId}`,
    }));
  return { calls, push, sent };
}

/** Lets every queued promise callback run (a bounded number of turns, no timer). */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function enrolled(storage: MdmStorage, ...ids: string[]): Promise<void> {
  for (const id of ids)
    await storage.storeTokenUpdate({
      id,
      type: 'device',
      deviceId: id,
      push: { token: `aa${id}`.padEnd(64, '0'), pushMagic: `magic-${id}`, topic: TOPIC },
    });
}

function recordingLogger(): Logger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function lastPush(core: MdmCore, uuid: string, id: string) {
  return (await core.findCommand(uuid))?.targets.find((t) => t.enrollmentId === id)?.lastPush;
}

describe('background pushes after queueing', () => {
  test('ok/enqueue resolves while the push is pending; the outcome is recorded once it settles', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A', 'B');
    const held = heldPush();
    const seen: EnrollmentPushResult[][] = [];
    const core = createMdmCore({
      storage,
      push: held.push,
      clock: () => AT,
      onPushResults: (r) => seen.push([...r]),
    });
    const uuid = await core.enqueue(['A', 'B', 'NOTOKEN'], COMMAND);
    // Resolved, yet the push function has not answered.
    expect(held.calls).toHaveLength(1);
    expect(held.calls[0]?.targets.map((t) => t.enrollmentId)).toEqual(['A', 'B']);
    await settle();
    expect(await lastPush(core, uuid, 'A')).toBeUndefined();
    expect(await lastPush(core, uuid, 'NOTOKEN')).toEqual({
      outcome: 'no-token',
      reason: 'NoPushToken',
      at: AT,
    });
    const call = held.calls[0]!;
    call.settle([
      { enrollmentId: 'A', outcome: 'sent', status: 200, apnsId: 'id-A' },
      { enrollmentId: 'B', outcome: 'unregistered', status: 410, reason: 'Unregistered' },
    ]);
    await settle();
    expect(await lastPush(core, uuid, 'A')).toEqual({
      outcome: 'accepted',
      apnsId: 'id-A',
      at: AT,
    });
    expect(await lastPush(core, uuid, 'B')).toEqual({
      outcome: 'failed',
      reason: 'Unregistered',
      at: AT,
    });
    expect(seen.flat().map((r) => [r.enrollmentId, r.outcome])).toEqual([
      ['NOTOKEN', 'no-token'],
      ['A', 'accepted'],
      ['B', 'failed'],
    ]);
    await core.close();
  });

  test('ok/at most `concurrency` pushes run at once; the rest wait their turn', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A');
    const held = heldPush();
    const core = createMdmCore({ storage, push: held.push }, { push: { concurrency: 2 } });
    const uuids = [];
    for (let i = 0; i < 5; i++) uuids.push(await core.enqueue(['A'], COMMAND));
    expect(held.calls).toHaveLength(2);
    held.calls[0]!.settle(held.sent(held.calls[0]!));
    await settle();
    expect(held.calls).toHaveLength(3);
    for (let i = 1; i < 5; i++) {
      await settle();
      held.calls[i]!.settle(held.sent(held.calls[i]!));
      await settle();
    }
    expect(held.calls).toHaveLength(5);
    for (const uuid of uuids) expect((await lastPush(core, uuid, 'A'))?.outcome).toBe('accepted');
    await core.close();
  });

  test('ok/a full backlog defers the push (QueueFull) instead of growing', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A', 'B', 'C');
    const held = heldPush();
    const core = createMdmCore(
      { storage, push: held.push },
      { push: { concurrency: 1, maxQueued: 2 } },
    );
    const first = await core.enqueue(['A', 'B'], COMMAND);
    const second = await core.enqueue(['C'], COMMAND);
    await settle();
    expect(held.calls).toHaveLength(1);
    expect(await lastPush(core, second, 'C')).toMatchObject({
      outcome: 'deferred',
      reason: 'QueueFull',
    });
    held.calls[0]!.settle(held.sent(held.calls[0]!));
    await core.close();
    expect((await lastPush(core, first, 'B'))?.outcome).toBe('accepted');
  });

  test('ok/a command larger than the backlog pushes what fits and defers the rest (QueueFull)', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A', 'B', 'C');
    const held = heldPush();
    const core = createMdmCore(
      { storage, push: held.push },
      { push: { concurrency: 1, maxQueued: 2 } },
    );
    const uuid = await core.enqueue(['A', 'B', 'C'], COMMAND);
    await settle();
    expect(held.calls).toHaveLength(1);
    expect(await lastPush(core, uuid, 'C')).toMatchObject({
      outcome: 'deferred',
      reason: 'QueueFull',
    });
    held.calls[0]!.settle(held.sent(held.calls[0]!));
    await core.close();
    expect((await lastPush(core, uuid, 'A'))?.outcome).toBe('accepted');
    expect((await lastPush(core, uuid, 'B'))?.outcome).toBe('accepted');
  });

  test('ok/a command to every enrolled device resolves once stored; its pushes follow', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A', 'B');
    const held = heldPush();
    const core = createMdmCore({ storage, push: held.push }, { push: { concurrency: 1 } });
    const queued = await core.enqueueToEnrolled(COMMAND);
    expect(queued?.enrollmentIds).toEqual(['A', 'B']);
    await settle();
    expect(held.calls.map((c) => c.targets.map((t) => t.enrollmentId))).toEqual([['A', 'B']]);
    held.calls[0]!.settle(held.sent(held.calls[0]!));
    await core.close();
    expect((await lastPush(core, queued!.uuid, 'B'))?.outcome).toBe('accepted');
  });

  test('ok/a command to every enrolled device is looked up after it resolves, never on its path', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A', 'B');
    const lookups: string[][] = [];
    const findPushInfo = storage.findPushInfo.bind(storage);
    storage.findPushInfo = (ids) => {
      lookups.push([...ids]);
      return findPushInfo(ids);
    };
    const held = heldPush();
    const core = createMdmCore({ storage, push: held.push });
    await core.enqueueToEnrolled(COMMAND);
    expect(lookups).toEqual([]);
    await settle();
    expect(lookups).toEqual([['A', 'B']]);
    held.calls[0]!.settle(held.sent(held.calls[0]!));
    await core.close();
  });

  test('ok/a list past 10,000 ids resolves before its push info is read; every id is pushed once', async () => {
    const storage = createMemoryStorage();
    const ids = Array.from({ length: 10_001 }, (_, i) => `D${String(i).padStart(5, '0')}`);
    await enrolled(storage, ...ids);
    let lookups = 0;
    const findPushInfo = storage.findPushInfo.bind(storage);
    storage.findPushInfo = (list) => {
      lookups++;
      return findPushInfo(list);
    };
    const held = heldPush();
    const core = createMdmCore({ storage, push: held.push });
    const uuid = await core.enqueue(ids, COMMAND);
    expect(lookups).toBe(0);
    await settle();
    expect(lookups).toBe(2);
    for (const call of held.calls) call.settle(held.sent(call));
    await core.close();
    expect(held.calls.flatMap((c) => c.targets.map((t) => t.enrollmentId))).toEqual(ids);
    expect((await lastPush(core, uuid, 'D10000'))?.outcome).toBe('accepted');
  });

  test('ok/a command to more enrolled devices than half the backlog waits for room: every one pushed, none deferred', async () => {
    const storage = createMemoryStorage();
    const ids = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];
    await enrolled(storage, ...ids);
    const held = heldPush();
    const core = createMdmCore(
      { storage, push: held.push },
      { push: { concurrency: 1, maxQueued: 4 } },
    );
    const queued = await core.enqueueToEnrolled(COMMAND);
    // Chunks of half the backlog (2), each once the earlier ones left room.
    for (let i = 0; i < 4; i++) {
      await settle();
      expect(held.calls).toHaveLength(i + 1);
      held.calls[i]!.settle(held.sent(held.calls[i]!));
    }
    await core.close();
    expect(held.calls.map((c) => c.targets.map((t) => t.enrollmentId))).toEqual([
      ['A', 'B'],
      ['C', 'D'],
      ['E', 'F'],
      ['G'],
    ]);
    for (const id of ids)
      expect((await lastPush(core, queued!.uuid, id))?.outcome).toBe('accepted');
  });

  test('ok/close during a fleet-wide push waits for the chunk in progress and defers the rest (Shutdown)', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A', 'B', 'C', 'D', 'E');
    const held = heldPush();
    const core = createMdmCore(
      { storage, push: held.push },
      { push: { concurrency: 1, maxQueued: 4 } },
    );
    const queued = await core.enqueueToEnrolled(COMMAND);
    await settle();
    expect(held.calls).toHaveLength(1);
    let closed = false;
    const closing = core.close().then(() => {
      closed = true;
    });
    await settle();
    expect(closed).toBe(false);
    held.calls[0]!.settle(held.sent(held.calls[0]!));
    await closing;
    expect(held.calls).toHaveLength(1);
    const outcomes = [];
    for (const id of ['A', 'B', 'C', 'D', 'E'])
      outcomes.push([id, (await lastPush(core, queued!.uuid, id))?.reason ?? 'sent']);
    expect(outcomes).toEqual([
      ['A', 'sent'],
      ['B', 'sent'],
      ['C', 'Shutdown'],
      ['D', 'Shutdown'],
      ['E', 'Shutdown'],
    ]);
  });

  test('ok/close waits for the push in progress and defers the ones not started', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A');
    const held = heldPush();
    const core = createMdmCore({ storage, push: held.push }, { push: { concurrency: 1 } });
    const running = await core.enqueue(['A'], COMMAND);
    const waiting = await core.enqueue(['A'], COMMAND);
    let closed = false;
    const closing = core.close().then(() => {
      closed = true;
    });
    await settle();
    expect(closed).toBe(false);
    expect(await lastPush(core, waiting, 'A')).toMatchObject({
      outcome: 'deferred',
      reason: 'Shutdown',
    });
    held.calls[0]!.settle(held.sent(held.calls[0]!));
    await closing;
    expect(held.calls).toHaveLength(1);
    expect((await lastPush(core, running, 'A'))?.outcome).toBe('accepted');
  });

  test('ok/a rejecting push function makes failed outcomes, never an unhandled rejection', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A');
    const logger = recordingLogger();
    const core = createMdmCore({
      storage,
      logger,
      push: {
        push: () => Promise.reject(Object.assign(new Error('boom'), { code: 'ECONNRESET' })),
      },
    });
    const uuid = await core.enqueue(['A'], COMMAND);
    await core.close();
    expect(await lastPush(core, uuid, 'A')).toMatchObject({
      outcome: 'failed',
      reason: 'ECONNRESET',
    });
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([
      {
        level: 'warn',
        msg: 'push failed',
        obj: expect.objectContaining({ reason: 'ECONNRESET', count: 1, enrollmentIds: ['A'] }),
      },
    ]);
  });

  test('ok/push: false queues without pushing', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A');
    const held = heldPush();
    const core = createMdmCore({ storage, push: held.push });
    const uuid = await core.enqueue(['A'], COMMAND, { push: false });
    await core.close();
    expect(held.calls).toHaveLength(0);
    expect(await lastPush(core, uuid, 'A')).toBeUndefined();
  });

  test.each([
    ['fail/concurrency 0', { concurrency: 0 }, /push\.concurrency/],
    ['fail/maxQueued 1.5', { maxQueued: 1.5 }, /push\.maxQueued/],
  ])('%s is a TypeError naming it', (_name, push, message) => {
    expect(() => createMdmCore({ storage: createMemoryStorage() }, { push })).toThrow(message);
  });
});

describe('pushWithResults', () => {
  test('ok/one result per distinct id, in order; push() still counts those with a token', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A', 'B');
    await storage.invalidatePushToken('B', AT);
    const core = createMdmCore({
      storage,
      clock: () => AT,
      push: {
        push: (targets) =>
          Promise.resolve(
            targets.map((t) => ({ enrollmentId: t.enrollmentId, outcome: 'sent', apnsId: 'x' })),
          ),
      },
    });
    expect(await core.pushWithResults(['B', 'A', 'C', 'A'])).toEqual([
      { enrollmentId: 'B', outcome: 'no-token', reason: 'Unregistered', at: AT },
      { enrollmentId: 'A', outcome: 'accepted', apnsId: 'x', at: AT },
      { enrollmentId: 'C', outcome: 'no-token', reason: 'NoPushToken', at: AT },
    ]);
    expect(await core.push(['A', 'B', 'C'])).toBe(1);
    await core.close();
  });

  test('ok/a push provider that reports no result per target counts as accepted', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A');
    const push = { push: () => Promise.resolve([]) };
    const core = createMdmCore({ storage, clock: () => AT, push });
    expect(await core.pushWithResults(['A'])).toEqual([
      { enrollmentId: 'A', outcome: 'accepted', at: AT },
    ]);
    await core.close();
  });
});

describe('coalesceKey: the oldest command the device has not fetched', () => {
  test('ok/the same while the device has not polled, another once it has, absent when none', async () => {
    const storage = createMemoryStorage();
    await enrolled(storage, 'A', 'B');
    const held = heldPush();
    const core = createMdmCore({ storage, clock: () => AT, push: held.push });
    const keyOf = (call: number, id: string): string | undefined =>
      held.calls[call]?.targets.find((t) => t.enrollmentId === id)?.coalesceKey;
    const first = await core.enqueue(['A', 'B'], COMMAND);
    await settle();
    const second = await core.enqueue(['A', 'B'], COMMAND);
    await settle();
    // Neither device polled: both pushes carry the first command (the provider may coalesce).
    expect([keyOf(0, 'A'), keyOf(1, 'A'), keyOf(1, 'B')]).toEqual([first, first, first]);
    // A polls (is offered the first command): its key moves on, B's does not.
    expect((await storage.nextCommand('A', { skipNotNow: false, now: AT }))?.uuid).toBe(first);
    const third = await core.enqueue(['A', 'B'], COMMAND);
    await settle();
    expect([keyOf(2, 'A'), keyOf(2, 'B')]).toEqual([second, first]);
    // Everything fetched and answered: a push with nothing queued has no key (never absorbed).
    for (const uuid of [first, second, third]) {
      expect((await storage.nextCommand('A', { skipNotNow: false, now: AT }))?.uuid).toBe(uuid);
      const ack = { uuid, status: 'Acknowledged' as const, result: new Uint8Array() };
      expect(await storage.storeResult('A', ack)).toBe(true);
    }
    void core.pushWithResults(['A']);
    await settle();
    expect(held.calls[3]?.targets).toEqual([
      { enrollmentId: 'A', token: expect.any(String), pushMagic: 'magic-A', topic: TOPIC },
    ]);
    for (const call of held.calls) call.settle(held.sent(call));
    await core.close();
  });
});

describe('pushOutcomeOf', () => {
  test.each<[string, PushResult, Partial<EnrollmentPushResult>]>([
    [
      'ok/sent is accepted',
      { enrollmentId: 'e', outcome: 'sent', status: 200, apnsId: 'i' },
      { outcome: 'accepted', status: 200, apnsId: 'i' },
    ],
    [
      'ok/coalesced is accepted',
      { enrollmentId: 'e', outcome: 'coalesced' },
      { outcome: 'accepted' },
    ],
    [
      'ok/circuit open is deferred',
      { enrollmentId: 'e', outcome: 'failed', reason: 'CircuitOpen' },
      { outcome: 'deferred', reason: 'CircuitOpen' },
    ],
    [
      'ok/provider closed is deferred',
      { enrollmentId: 'e', outcome: 'failed', reason: 'Closed' },
      { outcome: 'deferred', reason: 'Closed' },
    ],
    [
      'ok/a dead token is no-token',
      { enrollmentId: 'e', outcome: 'dead', reason: 'Unregistered' },
      { outcome: 'no-token', reason: 'Unregistered' },
    ],
    [
      'fail/transport error names its code',
      {
        enrollmentId: 'e',
        outcome: 'failed',
        reason: 'ConnectionError',
        errorCode: 'ECONNREFUSED',
      },
      { outcome: 'failed', reason: 'ECONNREFUSED' },
    ],
    [
      'fail/timeout',
      { enrollmentId: 'e', outcome: 'failed', reason: 'Timeout' },
      { outcome: 'failed', reason: 'Timeout' },
    ],
    [
      'fail/410',
      { enrollmentId: 'e', outcome: 'unregistered', status: 410, reason: 'Unregistered' },
      { outcome: 'failed', reason: 'Unregistered', status: 410 },
    ],
    [
      'fail/bad token without a reason',
      { enrollmentId: 'e', outcome: 'bad-token' },
      { outcome: 'failed', reason: 'BadDeviceToken' },
    ],
    [
      'fail/rejected',
      { enrollmentId: 'e', outcome: 'rejected', status: 403, reason: 'BadCertificate' },
      { outcome: 'failed', reason: 'BadCertificate', status: 403 },
    ],
    [
      'fail/expired certificate',
      { enrollmentId: 'e', outcome: 'failed', reason: 'CertificateExpired' },
      { outcome: 'failed', reason: 'CertificateExpired' },
    ],
  ])('%s', (_name, result, expected) => {
    expect(pushOutcomeOf('e', result, AT)).toEqual({ enrollmentId: 'e', at: AT, ...expected });
  });
});
