/**
 * A command poll (a device's report answered with its next command) takes one storage write
 * when the storage offers `reportAndNext`, and the two calls `storeResult` and `nextCommand`
 * when it does not: the same answers, results and events either way, over real HTTP.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { MdmStorage } from '../../src/storage/ports.js';
import { commandOf, type DeviceEmulator } from '../support/device-emulator.js';
import { startHarness, type Harness } from '../e2e/harness.js';

const COUNTED = ['reportAndNext', 'storeResult', 'nextCommand'] as const;

/** `inner` with its command-queue calls counted; `withoutBoth` hides `reportAndNext`. */
function counted(
  inner: MdmStorage,
  withoutBoth: boolean,
): { storage: MdmStorage; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const storage = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'reportAndNext' && withoutBoth) return undefined;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const name = String(prop);
      return (...args: unknown[]): unknown => {
        if ((COUNTED as readonly string[]).includes(name))
          calls.set(name, (calls.get(name) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { storage, calls };
}

describe.each([
  ['one write (reportAndNext)', false],
  ['two calls (a storage without reportAndNext)', true],
] as const)('command polls: %s', (_name, withoutBoth) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('ok/each report is stored, its event sent, and the next command answered', async () => {
    const { storage, calls } = counted(createMemoryStorage(), withoutBoth);
    h = await startHarness(storage);
    const dev: DeviceEmulator = await h.device();
    await dev.enroll();
    const uuids: string[] = [];
    for (let i = 0; i < 3; i++)
      uuids.push(await h.core.enqueue([dev.enrollmentId], { RequestType: 'ProfileList' }));
    calls.clear();
    let answer = commandOf(await dev.idle());
    const seen: string[] = [];
    while (answer !== undefined) {
      seen.push(answer.uuid);
      answer = commandOf(await dev.answer(answer.uuid, 'Acknowledged'));
    }
    expect(seen).toEqual(uuids);
    for (const uuid of uuids) {
      const target = (await h.storage.findCommand(uuid))?.targets[0];
      expect(target?.status).toBe('Acknowledged');
      expect(Buffer.from(target?.result ?? []).toString()).toContain(uuid);
    }
    const results = h.events.filter((e) => e.type === 'command-result');
    expect(results.map((e) => (e as { commandUuid: string }).commandUuid)).toEqual(uuids);
    // One Idle (nextCommand), then three reports.
    expect(Object.fromEntries(calls)).toEqual(
      withoutBoth ? { nextCommand: 4, storeResult: 3 } : { nextCommand: 1, reportAndNext: 3 },
    );
  });

  test('ok/a report for a command not queued here stores nothing and still answers', async () => {
    const { storage } = counted(createMemoryStorage(), withoutBoth);
    h = await startHarness(storage);
    const dev = await h.device();
    await dev.enroll();
    const other = await h.device();
    await other.enroll();
    const theirs = await h.core.enqueue([other.enrollmentId], { RequestType: 'ProfileList' });
    const mine = await h.core.enqueue([dev.enrollmentId], { RequestType: 'ProfileList' });
    // Another device's command: not stored for it, not touched for its owner.
    const res = await dev.answer(theirs, 'Acknowledged');
    expect(commandOf(res)?.uuid).toBe(mine);
    expect((await h.storage.findCommand(theirs))?.targets[0]?.status).toBe('queued');
    expect(h.events.filter((e) => e.type === 'command-result')).toEqual([]);
  });
});
