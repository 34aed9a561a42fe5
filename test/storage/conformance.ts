/**
 * The storage conformance suite: every adapter (memory, SQLite, later PostgreSQL) must pass it.
 * Call `runStorageConformance(name, factory)` from a `*.test.ts`; the factory gets an injected
 * clock and returns a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { MdmStorage } from '../../src/storage/ports.js';
import { atomicSuite } from './conformance-atomic.js';
import { checkinSuite } from './conformance-checkin.js';
import { checkinFactsSuite } from './conformance-checkin-facts.js';
import { commandSuite } from './conformance-commands.js';
import { outboxSuite } from './conformance-outbox.js';

/** A clock tests move by hand. */
export interface TestClock {
  now: () => Date;
  advance: (ms: number) => void;
}

/** Makes a fresh, empty store whose own timestamps come from `clock`. */
export type StorageFactory = (context: { clock: () => Date }) => MdmStorage | Promise<MdmStorage>;

/** What each sub-suite gets: the current store and its clock (reset before every test). */
export interface SuiteContext {
  store: () => MdmStorage;
  clock: TestClock;
}

/** A clock starting at a fixed instant. */
export function createTestClock(start = Date.UTC(2026, 0, 1)): TestClock {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Runs the whole conformance suite against the adapter `factory` makes. */
export function runStorageConformance(name: string, factory: StorageFactory): void {
  describe(`storage conformance: ${name}`, () => {
    let current: MdmStorage | undefined;
    let clock = createTestClock();
    const context: SuiteContext = {
      store: () => {
        if (current === undefined) throw new Error('store not ready');
        return current;
      },
      get clock() {
        return clock;
      },
    };

    beforeEach(async () => {
      clock = createTestClock();
      current = await factory({ clock: clock.now });
    });

    afterEach(async () => {
      await current?.close();
      current = undefined;
    });

    checkinSuite(context);
    checkinFactsSuite(context);
    commandSuite(context);
    outboxSuite(context);
    atomicSuite(context);

    test('fail/every call after close rejects with ERR_STORAGE', async () => {
      const store = context.store();
      await store.close();
      const calls: (() => Promise<unknown>)[] = [
        () => store.findEnrollment('A'),
        () => store.nextCommand('A', { skipNotNow: false, now: clock.now() }),
        () => store.claimDue(1, clock.now(), 1000),
        () => store.findPushInfo(['A']),
        () => store.findBootstrapToken('A'),
        () => store.findCertificateBinding('A'),
      ];
      for (const call of calls) {
        await expect(call()).rejects.toMatchObject({ code: 'ERR_STORAGE', status: 503 });
      }
      current = undefined;
    });
  });
}
