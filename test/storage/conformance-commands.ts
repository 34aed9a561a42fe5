/** Conformance: the command queue. */
import { describe, expect, test } from '@jest/globals';
import type {
  CommandStatus,
  MdmStorage,
  NewCommand,
  ReportStatus,
} from '../../src/storage/ports.js';
import type { SuiteContext } from './conformance.js';

function command(uuid: string, extra: Partial<NewCommand> = {}): NewCommand {
  return {
    uuid,
    requestType: 'DeviceInformation',
    body: new TextEncoder().encode(`<${uuid}>`),
    ...extra,
  };
}

async function poll(
  store: MdmStorage,
  id: string,
  now: Date,
  skipNotNow = false,
): Promise<string | undefined> {
  return (await store.nextCommand(id, { skipNotNow, now }))?.uuid;
}

async function statusOf(
  store: MdmStorage,
  uuid: string,
  id: string,
): Promise<CommandStatus | undefined> {
  return (await store.findCommand(uuid))?.targets.find((t) => t.enrollmentId === id)?.status;
}

const report = (
  uuid: string,
  status: ReportStatus,
): { uuid: string; status: ReportStatus; result: Uint8Array } => ({
  uuid,
  status,
  result: new TextEncoder().encode(`${uuid}:${status}`),
});

/** Registers the command-queue cases. */
export function commandSuite(ctx: SuiteContext): void {
  describe('command queue', () => {
    test('ok/FIFO per enrollment; an unanswered command is offered again', async () => {
      const store = ctx.store();
      for (const uuid of ['c1', 'c2', 'c3']) await store.enqueue(command(uuid), ['A']);
      const now = ctx.clock.now();
      const first = await store.nextCommand('A', { skipNotNow: false, now });
      expect(first).toEqual({
        uuid: 'c1',
        requestType: 'DeviceInformation',
        body: new TextEncoder().encode('<c1>'),
      });
      expect(await statusOf(store, 'c1', 'A')).toBe('sent');
      expect(await poll(store, 'A', now)).toBe('c1');
      await store.storeResult('A', report('c1', 'Acknowledged'));
      expect(await poll(store, 'A', now)).toBe('c2');
      expect(await poll(store, 'B', now)).toBeUndefined();
    });

    test('ok/push info names the oldest command never offered (queueHead) until it is', async () => {
      const store = ctx.store();
      const push = { token: 'aabb', pushMagic: 'm', topic: 'com.apple.mgmt.X' };
      for (const id of ['A', 'B'])
        await store.storeTokenUpdate({ id, type: 'device', deviceId: id, push });
      const heads = async (): Promise<(string | undefined)[]> => {
        const infos = await store.findPushInfo(['A', 'B']);
        return ['A', 'B'].map((id) => infos.find((i) => i.enrollmentId === id)?.queueHead);
      };
      expect(await heads()).toEqual([undefined, undefined]);
      await store.enqueue(command('h1'), ['A', 'B']);
      await store.enqueue(command('h2'), ['A']);
      expect(await heads()).toEqual(['h1', 'h1']);
      const now = ctx.clock.now();
      expect(await poll(store, 'A', now)).toBe('h1');
      expect(await heads()).toEqual(['h2', 'h1']);
      // NotNow is not `queued`: the head moves on; a canceled head too.
      await store.storeResult('A', report('h1', 'NotNow'));
      expect(await poll(store, 'A', now, true)).toBe('h2');
      expect(await store.cancel('B', 'h1')).toBe(true);
      expect(await heads()).toEqual([undefined, undefined]);
    });

    test('ok/one command to many enrollments is stored once', async () => {
      const store = ctx.store();
      const ids = Array.from({ length: 50 }, (_, i) => `E${String(i).padStart(2, '0')}`);
      await store.enqueue(command('fan'), [...ids, ids[0]!]);
      const record = await store.findCommand('fan');
      expect(record?.targets.map((t) => t.enrollmentId).sort()).toEqual(ids);
      expect(record?.targets.every((t) => t.status === 'queued')).toBe(true);
      for (const id of ids) expect(await poll(store, id, ctx.clock.now())).toBe('fan');
      await store.storeResult('E07', report('fan', 'Error'));
      const after = await store.findCommand('fan');
      expect(after?.targets.filter((t) => t.status === 'Error').map((t) => t.enrollmentId)).toEqual(
        ['E07'],
      );
      expect(after?.targets.filter((t) => t.status === 'sent')).toHaveLength(49);
    });

    test.each<[string, ReportStatus, string | undefined]>([
      ['ok/Acknowledged finishes', 'Acknowledged', 'c2'],
      ['ok/Error finishes', 'Error', 'c2'],
      ['ok/CommandFormatError finishes', 'CommandFormatError', 'c2'],
      ['ok/NotNow stays queued and comes back first on Idle', 'NotNow', 'c1'],
    ])('%s', async (_name, status, nextOnIdle) => {
      const store = ctx.store();
      await store.enqueue(command('c1'), ['A']);
      await store.enqueue(command('c2'), ['A']);
      expect(await poll(store, 'A', ctx.clock.now())).toBe('c1');
      ctx.clock.advance(5);
      expect(await store.storeResult('A', report('c1', status))).toBe(true);
      const record = await store.findCommand('c1');
      expect(record?.targets[0]).toEqual({
        enrollmentId: 'A',
        status,
        result: new TextEncoder().encode(`c1:${status}`),
        updatedAt: ctx.clock.now(),
      });
      expect(await poll(store, 'A', ctx.clock.now(), status === 'NotNow')).toBe('c2');
      expect(await poll(store, 'A', ctx.clock.now())).toBe(nextOnIdle);
    });

    test('ok/reportAndNext answers as storeResult then nextCommand, in one call', async () => {
      const store = ctx.store();
      const both = store.reportAndNext?.bind(store);
      // Every adapter of ours takes a command poll's two writes at once.
      expect(both).toBeDefined();
      if (both === undefined) return;
      for (const uuid of ['c1', 'c2', 'c3']) await store.enqueue(command(uuid), ['A']);
      await store.enqueue(command('b1'), ['B']);
      expect(await poll(store, 'A', ctx.clock.now())).toBe('c1');
      ctx.clock.advance(5);
      const now = ctx.clock.now();
      const first = await both('A', report('c1', 'Acknowledged'), { skipNotNow: true, now });
      expect(first).toEqual({
        stored: true,
        next: {
          uuid: 'c2',
          requestType: 'DeviceInformation',
          body: new TextEncoder().encode('<c2>'),
        },
      });
      expect((await store.findCommand('c1'))?.targets[0]).toEqual({
        enrollmentId: 'A',
        status: 'Acknowledged',
        result: new TextEncoder().encode('c1:Acknowledged'),
        updatedAt: now,
      });
      expect(await statusOf(store, 'c2', 'A')).toBe('sent');
      // NotNow: kept, skipped by this answer, offered again on Idle.
      const second = await both('A', report('c2', 'NotNow'), { skipNotNow: true, now });
      expect([second.stored, second.next?.uuid]).toEqual([true, 'c3']);
      expect(await statusOf(store, 'c2', 'A')).toBe('NotNow');
      // Not a target of this enrollment (another's command, an unknown uuid): nothing stored,
      // the next command still answered; another enrollment's queue untouched.
      const foreign = await both('A', report('b1', 'Acknowledged'), { skipNotNow: false, now });
      expect([foreign.stored, foreign.next?.uuid]).toEqual([false, 'c2']);
      expect(await statusOf(store, 'b1', 'B')).toBe('queued');
      // c2 went out again above and is still unanswered: offered again.
      const unknown = await both('A', report('nope', 'Error'), { skipNotNow: true, now });
      expect([unknown.stored, unknown.next?.uuid]).toEqual([false, 'c2']);
      await store.storeResult('A', report('c2', 'Acknowledged'));
      const last = await both('A', report('c3', 'Acknowledged'), { skipNotNow: true, now });
      expect(last).toEqual({ stored: true, next: undefined });
      expect(await poll(store, 'A', now)).toBeUndefined();
    });

    test('ok/reportAndNext expires lapsed commands on the way, as nextCommand does', async () => {
      const store = ctx.store();
      const both = store.reportAndNext?.bind(store);
      expect(both).toBeDefined();
      if (both === undefined) return;
      const soon = new Date(ctx.clock.now().getTime() + 1000);
      await store.enqueue(command('c1'), ['A']);
      await store.enqueue(command('lapsed', { expiresAt: soon }), ['A']);
      await store.enqueue(command('c3'), ['A']);
      expect(await poll(store, 'A', ctx.clock.now())).toBe('c1');
      ctx.clock.advance(2000);
      const now = ctx.clock.now();
      const r = await both('A', report('c1', 'Acknowledged'), { skipNotNow: true, now });
      expect([r.stored, r.next?.uuid]).toEqual([true, 'c3']);
      expect(await statusOf(store, 'lapsed', 'A')).toBe('expired');
      await expect(
        both('A', report('c3', 'Acknowledged'), { skipNotNow: true, now: new Date(NaN) }),
      ).rejects.toBeInstanceOf(TypeError);
      expect(await statusOf(store, 'c3', 'A')).toBe('sent');
    });

    test('ok/enqueueEnrolled targets every enrolled enrollment in id order, and only those', async () => {
      const store = ctx.store();
      expect(await store.enqueueEnrolled(command('none'))).toEqual([]);
      expect(await store.findCommand('none')).toBeUndefined();
      for (const id of ['E', 'B', 'D', 'A', 'C', 'F']) {
        const identity = { id, type: 'device' as const, deviceId: id };
        if (id < 'C') await store.storeAuthenticate({ ...identity, facts: {} });
        else
          await store.storeTokenUpdate({
            ...identity,
            push: { token: 'aa', pushMagic: 'm', topic: 'com.apple.mgmt.X' },
          });
      }
      await store.markCheckedOut('F');
      await store.enqueue(command('first'), ['E']);
      expect(await store.enqueueEnrolled(command('all'))).toEqual(['C', 'D', 'E']);
      const record = await store.findCommand('all');
      expect(record?.targets.map((t) => t.enrollmentId)).toEqual(['C', 'D', 'E']);
      expect(record?.targets.every((t) => t.status === 'queued')).toBe(true);
      expect(await poll(store, 'E', ctx.clock.now())).toBe('first');
      await store.storeResult('E', report('first', 'Acknowledged'));
      expect(await poll(store, 'E', ctx.clock.now())).toBe('all');
      expect(await poll(store, 'A', ctx.clock.now())).toBeUndefined();
      expect(await poll(store, 'F', ctx.clock.now())).toBeUndefined();
    });

    test('fail/enqueueEnrolled with a uuid already stored is a TypeError and adds no target', async () => {
      const store = ctx.store();
      const identity = { id: 'A', type: 'device' as const, deviceId: 'A' };
      await store.storeTokenUpdate({
        ...identity,
        push: { token: 'aa', pushMagic: 'm', topic: 'com.apple.mgmt.X' },
      });
      await store.enqueue(command('dup'), ['B']);
      await expect(store.enqueueEnrolled(command('dup'))).rejects.toBeInstanceOf(TypeError);
      expect((await store.findCommand('dup'))?.targets.map((t) => t.enrollmentId)).toEqual(['B']);
      expect(await poll(store, 'A', ctx.clock.now())).toBeUndefined();
    });

    test('ok/skipNotNow answers nothing when only deferred commands remain', async () => {
      const store = ctx.store();
      await store.enqueue(command('c1'), ['A']);
      await poll(store, 'A', ctx.clock.now());
      await store.storeResult('A', report('c1', 'NotNow'));
      expect(await poll(store, 'A', ctx.clock.now(), true)).toBeUndefined();
      expect(await poll(store, 'A', ctx.clock.now(), false)).toBe('c1');
    });

    test('fail/a device cannot store a result for a command not targeted at it', async () => {
      const store = ctx.store();
      await store.enqueue(command('c1'), ['A']);
      expect(await store.storeResult('B', report('c1', 'Acknowledged'))).toBe(false);
      expect(await store.storeResult('A', report('nope', 'Acknowledged'))).toBe(false);
      expect((await store.findCommand('c1'))?.targets).toEqual([
        { enrollmentId: 'A', status: 'queued', updatedAt: ctx.clock.now() },
      ]);
    });

    test.each<[string, ReportStatus | 'sent' | 'queued', boolean]>([
      ['ok/cancel a queued command', 'queued', true],
      ['ok/cancel a sent command', 'sent', true],
      ['ok/cancel a deferred command', 'NotNow', true],
      ['fail/cancel an acknowledged command', 'Acknowledged', false],
      ['fail/cancel a failed command', 'Error', false],
    ])('%s', async (_name, before, canceled) => {
      const store = ctx.store();
      await store.enqueue(command('c1'), ['A', 'B']);
      if (before !== 'queued') await poll(store, 'A', ctx.clock.now());
      if (before !== 'queued' && before !== 'sent')
        await store.storeResult('A', report('c1', before));
      expect(await store.cancel('A', 'c1')).toBe(canceled);
      expect(await statusOf(store, 'c1', 'A')).toBe(canceled ? 'canceled' : before);
      expect(await statusOf(store, 'c1', 'B')).toBe('queued');
      expect(await poll(store, 'A', ctx.clock.now())).toBeUndefined();
      expect(await store.cancel('A', 'missing')).toBe(false);
    });

    test('ok/a late NotNow does not revive a canceled command; a late result is recorded', async () => {
      const store = ctx.store();
      await store.enqueue(command('c1'), ['A']);
      await store.enqueue(command('c2'), ['A']);
      await poll(store, 'A', ctx.clock.now());
      await store.cancel('A', 'c1');
      await store.cancel('A', 'c2');
      expect(await store.storeResult('A', report('c1', 'NotNow'))).toBe(true);
      expect(await statusOf(store, 'c1', 'A')).toBe('canceled');
      expect(await poll(store, 'A', ctx.clock.now())).toBeUndefined();
      await store.storeResult('A', report('c2', 'Acknowledged'));
      expect(await statusOf(store, 'c2', 'A')).toBe('Acknowledged');
    });

    test('ok/clearQueue cancels every pending command of one enrollment only', async () => {
      const store = ctx.store();
      await store.enqueue(command('c1'), ['A', 'B']);
      await store.enqueue(command('c2'), ['A']);
      await store.enqueue(command('c3'), ['A']);
      await poll(store, 'A', ctx.clock.now());
      await store.storeResult('A', report('c1', 'Acknowledged'));
      expect(await store.clearQueue('A')).toBe(2);
      expect(await store.clearQueue('A')).toBe(0);
      expect(await statusOf(store, 'c1', 'A')).toBe('Acknowledged');
      expect(await statusOf(store, 'c3', 'A')).toBe('canceled');
      expect(await poll(store, 'A', ctx.clock.now())).toBeUndefined();
      expect(await poll(store, 'B', ctx.clock.now())).toBe('c1');
    });

    test('ok/expired commands are never sent and are marked expired', async () => {
      const store = ctx.store();
      const expiresAt = new Date(ctx.clock.now().getTime() + 60_000);
      await store.enqueue(command('old', { expiresAt }), ['A', 'B']);
      await store.enqueue(command('new'), ['A']);
      const later = new Date(expiresAt.getTime() + 1);
      expect(await poll(store, 'A', later)).toBe('new');
      expect(await statusOf(store, 'old', 'A')).toBe('expired');
      expect(await statusOf(store, 'old', 'B')).toBe('queued');
      expect(await store.expireCommands(later)).toBe(1);
      expect(await statusOf(store, 'old', 'B')).toBe('expired');
      expect((await store.findCommand('old'))?.expiresAt).toEqual(expiresAt);
    });

    test('ok/purgeFinished deletes only old finished targets and emptied commands', async () => {
      const store = ctx.store();
      await store.enqueue(command('done'), ['A']);
      await store.enqueue(command('mixed'), ['A', 'B']);
      await store.enqueue(command('pending'), ['A']);
      await poll(store, 'A', ctx.clock.now());
      await store.storeResult('A', report('done', 'Acknowledged'));
      await poll(store, 'A', ctx.clock.now());
      await store.storeResult('A', report('mixed', 'Error'));
      ctx.clock.advance(10_000);
      await store.cancel('B', 'mixed');
      expect(await store.purgeFinished(new Date(ctx.clock.now().getTime() - 5_000))).toBe(2);
      expect(await store.findCommand('done')).toBeUndefined();
      expect((await store.findCommand('mixed'))?.targets.map((t) => t.enrollmentId)).toEqual(['B']);
      expect(await poll(store, 'A', ctx.clock.now())).toBe('pending');
      const listed = await store.listForEnrollment('A', { limit: 10 });
      expect(listed.items.map((c) => c.uuid)).toEqual(['pending']);
    });

    test('ok/listForEnrollment pages in queue order and filters by status', async () => {
      const store = ctx.store();
      const uuids = ['u5', 'u1', 'u4', 'u2', 'u3'];
      for (const uuid of uuids) await store.enqueue(command(uuid), ['A', 'B']);
      await poll(store, 'A', ctx.clock.now());
      await store.storeResult('A', report('u5', 'Acknowledged'));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listForEnrollment(
          'A',
          cursor === undefined ? { limit: 2 } : { limit: 2, cursor },
        );
        seen.push(...page.items.map((c) => c.uuid));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toEqual(uuids);
      const acked = await store.listForEnrollment('A', { limit: 10, status: 'Acknowledged' });
      expect(acked.items).toEqual([
        expect.objectContaining({
          uuid: 'u5',
          requestType: 'DeviceInformation',
          status: 'Acknowledged',
        }),
      ]);
      expect((await store.listForEnrollment('nobody', { limit: 10 })).items).toEqual([]);
    });

    test.each<[string, NewCommand, string[]]>([
      ['fail/no enrollment ids', command('x'), []],
      ['fail/empty uuid', command(''), ['A']],
      ['fail/empty enrollment id', command('x'), ['']],
    ])('%s is a TypeError', async (_name, cmd, ids) => {
      await expect(ctx.store().enqueue(cmd, ids)).rejects.toBeInstanceOf(TypeError);
      expect(await ctx.store().findCommand('x')).toBeUndefined();
    });

    test('fail/a duplicate uuid is a TypeError and changes nothing', async () => {
      const store = ctx.store();
      await store.enqueue(command('c1'), ['A']);
      await expect(store.enqueue(command('c1'), ['B'])).rejects.toBeInstanceOf(TypeError);
      expect((await store.findCommand('c1'))?.targets.map((t) => t.enrollmentId)).toEqual(['A']);
      expect(await poll(store, 'B', ctx.clock.now())).toBeUndefined();
    });

    test('ok/interleaved enqueues and polls deliver every command once, in order', async () => {
      const store = ctx.store();
      const ids = ['A', 'B', 'C', 'D'];
      const received = new Map<string, string[]>(ids.map((id) => [id, []]));
      const enqueues = Array.from({ length: 40 }, (_, i) =>
        store.enqueue(command(`k${String(i).padStart(2, '0')}`), [ids[i % 4]!, ids[(i + 1) % 4]!]),
      );
      const drain = async (id: string): Promise<void> => {
        for (let i = 0; i < 200; i++) {
          const next = await store.nextCommand(id, { skipNotNow: false, now: ctx.clock.now() });
          if (next === undefined) {
            await new Promise((resolve) => setImmediate(resolve));
            if ((received.get(id)?.length ?? 0) === 20) return;
            continue;
          }
          received.get(id)?.push(next.uuid);
          await store.storeResult(id, report(next.uuid, 'Acknowledged'));
        }
      };
      await Promise.all([...enqueues, ...ids.map(drain)]);
      for (const id of ids) {
        const got = received.get(id) ?? [];
        expect(got).toHaveLength(20);
        expect(new Set(got).size).toBe(20);
        expect([...got].sort()).toEqual(got);
      }
    });
  });
}
