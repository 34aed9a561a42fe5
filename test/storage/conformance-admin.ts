/**
 * The admin storage conformance suite: API keys, the audit log, enrollment links, settings and
 * the closed store, which every {@link AdminStorage} adapter (memory, SQLite, later PostgreSQL)
 * must pass. Every method answers a promise; failures are rejections, never synchronous throws. Call `runAdminConformance(name, factory)` from a `*.test.ts`; the factory gets an
 * injected clock and returns a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { AdminStorage } from '../../src/storage/ports.js';
import { adminLinkKindsSuite } from './conformance-admin-link-kinds.js';
import { adminLinksSuite } from './conformance-admin-links.js';
import { createTestClock, type TestClock } from './conformance.js';

/** Makes a fresh, empty admin store whose own timestamps come from `clock`. */
export type AdminStorageFactory = (context: {
  clock: () => Date;
}) => AdminStorage | Promise<AdminStorage>;

/** What each admin sub-suite gets: the current store and its clock (reset before every test). */
export interface AdminSuiteContext {
  store: () => AdminStorage;
  clock: TestClock;
}

function apiKeySuite(ctx: AdminSuiteContext): void {
  describe('API keys', () => {
    test('ok/a key is found by its hash, listed, counted, and listed with its hash while active', async () => {
      const store = ctx.store();
      const k = await store.createApiKey({ name: 'ci', scope: 'read', hash: 'h1' });
      expect(k).toEqual({
        id: k.id,
        name: 'ci',
        scope: 'read',
        principalId: 'owner',
        createdAt: ctx.clock.now(),
      });
      expect(k.id).toMatch(/^ak_[0-9a-f]{12}$/);
      expect(await store.findApiKeyByHash('h1')).toEqual(k);
      expect(await store.findApiKeyByHash('h2')).toBeUndefined();
      expect(await store.listApiKeys()).toEqual([k]);
      expect(await store.listActiveApiKeys()).toEqual([{ record: k, hash: 'h1' }]);
      expect(await store.countActiveApiKeys()).toBe(1);
    });

    test('ok/revoking stamps the clock, hides the key from lookups and keeps it listed', async () => {
      const store = ctx.store();
      const k = await store.createApiKey({ name: 'old', scope: 'write', hash: 'h1' });
      await store.createApiKey({ name: 'new', scope: 'write', hash: 'h2' });
      ctx.clock.advance(5000);
      expect(await store.revokeApiKey(k.id)).toBe(true);
      expect(await store.revokeApiKey(k.id)).toBe(false);
      expect(await store.revokeApiKey('ak_unknown')).toBe(false);
      expect(await store.findApiKeyByHash('h1')).toBeUndefined();
      expect((await store.listActiveApiKeys()).map((a) => a.hash)).toEqual(['h2']);
      expect(await store.countActiveApiKeys()).toBe(1);
      const listed = (await store.listApiKeys()).find((r) => r.id === k.id);
      expect(listed).toEqual({ ...k, revokedAt: ctx.clock.now() });
    });

    test('ok/keys are listed oldest first, then by id', async () => {
      const store = ctx.store();
      const a = await store.createApiKey({ name: 'a', scope: 'read', hash: 'ha' });
      const b = await store.createApiKey({ name: 'b', scope: 'read', hash: 'hb' });
      ctx.clock.advance(-1000);
      const early = await store.createApiKey({ name: 'early', scope: 'read', hash: 'he' });
      const sameMs = [a, b].sort((x, y) => (x.id < y.id ? -1 : 1)).map((k) => k.name);
      expect((await store.listApiKeys()).map((k) => k.name)).toEqual([early.name, ...sameMs]);
    });

    test.each(['admin', '', 'READ'])(
      'fail/scope %j is a TypeError and stores nothing',
      async (scope) => {
        const store = ctx.store();
        const input = { name: 'x', scope: scope as 'read', hash: 'h' };
        await expect(store.createApiKey(input)).rejects.toThrow(TypeError);
        expect(await store.listApiKeys()).toEqual([]);
      },
    );

    test('fail/a hash already stored is ERR_STORAGE and the first key stays', async () => {
      const store = ctx.store();
      const first = await store.createApiKey({ name: 'first', scope: 'read', hash: 'dup' });
      await expect(
        store.createApiKey({ name: 'second', scope: 'write', hash: 'dup' }),
      ).rejects.toThrow(expect.objectContaining({ code: 'ERR_STORAGE' }));
      expect(await store.findApiKeyByHash('dup')).toEqual(first);
      expect(await store.countActiveApiKeys()).toBe(1);
    });

    test('ok/records handed out are copies', async () => {
      const store = ctx.store();
      const k = await store.createApiKey({ name: 'ci', scope: 'read', hash: 'h1' });
      k.name = 'changed';
      k.createdAt.setTime(0);
      const found = await store.findApiKeyByHash('h1');
      if (found) found.scope = 'write';
      expect((await store.listApiKeys())[0]).toMatchObject({ name: 'ci', scope: 'read' });
      expect((await store.listApiKeys())[0]?.createdAt).toEqual(ctx.clock.now());
    });
  });
}

function auditSuite(ctx: AdminSuiteContext): void {
  describe('audit log', () => {
    test('ok/entries are stamped by the clock, numbered, and listed newest first', async () => {
      const store = ctx.store();
      const first = await store.audit({
        actor: 'ak_1',
        action: 'key.create',
        target: 'ak_2',
        detail: {},
      });
      ctx.clock.advance(1000);
      const detail = { scope: 'read', nested: { list: [1, 'two', null] } };
      const second = await store.audit({
        actor: 'cli',
        action: 'link.revoke',
        target: 'et_1',
        detail,
      });
      expect(second.seq).toBeGreaterThan(first.seq);
      expect(second).toEqual({
        seq: second.seq,
        at: ctx.clock.now(),
        actor: 'cli',
        action: 'link.revoke',
        target: 'et_1',
        detail,
      });
      expect(await store.listAudit({ limit: 10 })).toEqual({ items: [second, first] });
    });

    test('ok/detail is kept as JSON: Dates become text, undefined members vanish', async () => {
      const store = ctx.store();
      const at = new Date('2026-02-03T04:05:06.000Z');
      await store.audit({
        actor: 'a',
        action: 'b',
        target: 'c',
        detail: { at, gone: undefined, n: 1 },
      });
      expect((await store.listAudit({ limit: 1 })).items[0]?.detail).toEqual({
        at: at.toISOString(),
        n: 1,
      });
    });

    test('ok/pages follow the cursor to the oldest entry; the last page has no cursor', async () => {
      const store = ctx.store();
      const seqs: number[] = [];
      for (const n of [1, 2, 3, 4, 5])
        seqs.push(
          (await store.audit({ actor: 'a', action: `x${String(n)}`, target: 't', detail: {} })).seq,
        );
      const pages: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listAudit(
          cursor === undefined ? { limit: 2 } : { limit: 2, cursor },
        );
        pages.push(page.items.map((e) => e.seq));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(pages).toEqual([seqs.slice(3).reverse(), seqs.slice(1, 3).reverse(), [seqs[0]]]);
      expect((await store.listAudit({ limit: 5 })).nextCursor).toBeUndefined();
      expect((await store.listAudit({ limit: 4 })).nextCursor).toBe(String(seqs[1]));
    });

    test.each(['abc', '-1', '1.5', '', '9999999999999999', ' 1'])(
      'fail/cursor %j is a TypeError',
      async (cursor) => {
        const store = ctx.store();
        await store.audit({ actor: 'a', action: 'b', target: 'c', detail: {} });
        await expect(store.listAudit({ limit: 1, cursor })).rejects.toThrow(TypeError);
      },
    );

    test('fail/a detail that is not JSON is a TypeError and writes nothing', async () => {
      const store = ctx.store();
      const detail = { n: 1n } as Record<string, unknown>;
      await expect(store.audit({ actor: 'a', action: 'b', target: 'c', detail })).rejects.toThrow(
        TypeError,
      );
      expect((await store.listAudit({ limit: 10 })).items).toEqual([]);
    });
  });
}

function settingsSuite(ctx: AdminSuiteContext): void {
  describe('settings', () => {
    test('ok/a setting is absent, stored, then replaced', async () => {
      const store = ctx.store();
      expect(await store.getMeta('public_url')).toBeUndefined();
      await store.setMeta('public_url', 'https://mdm.example.com');
      await store.setMeta('push_topic', 'com.apple.mgmt.External.1');
      await store.setMeta('public_url', 'https://other.example.com');
      expect(await store.getMeta('public_url')).toBe('https://other.example.com');
      expect(await store.getMeta('push_topic')).toBe('com.apple.mgmt.External.1');
    });
  });
}

function closedSuite(ctx: AdminSuiteContext): void {
  const calls = (store: AdminStorage): (() => Promise<unknown>)[] => [
    () => store.createApiKey({ name: 'x', scope: 'read', hash: 'h' }),
    () => store.findApiKeyByHash('h'),
    () => store.listApiKeys(),
    () => store.listActiveApiKeys(),
    () => store.revokeApiKey('ak_1'),
    () => store.countActiveApiKeys(),
    () => store.audit({ actor: 'a', action: 'b', target: 'c', detail: {} }),
    () => store.listAudit({ limit: 1 }),
    () => store.createEnrollmentToken({ hash: 'h', singleUse: true }),
    () => store.downloadEnrollmentToken('h', ctx.clock.now()),
    () => store.redeemEnrollmentToken('et_1', ctx.clock.now()),
    () => store.listEnrollmentTokens({ limit: 1 }),
    () => store.findEnrollmentToken('et_1'),
    () => store.revokeEnrollmentToken('et_1'),
    () => store.getMeta('k'),
    () => store.setMeta('k', 'v'),
  ];

  test('fail/every call after close rejects with ERR_STORAGE; closing again is harmless', async () => {
    const store = ctx.store();
    store.close();
    store.close();
    for (const call of calls(store))
      await expect(call()).rejects.toThrow(
        expect.objectContaining({ code: 'ERR_STORAGE', status: 503 }),
      );
  });

  test('fail/a closed store answers a rejected promise, never a synchronous throw', async () => {
    const store = ctx.store();
    store.close();
    for (const call of calls(store)) {
      let answer: Promise<unknown> | undefined;
      expect(() => {
        answer = call();
      }).not.toThrow();
      expect(answer).toBeInstanceOf(Promise);
      await expect(answer).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    }
  });

  test('fail/misuse rejects with TypeError, never a synchronous throw', async () => {
    const store = ctx.store();
    const bad = store.createApiKey({ name: 'x', scope: 'admin' as 'read', hash: 'h' });
    expect(bad).toBeInstanceOf(Promise);
    await expect(bad).rejects.toThrow(TypeError);
    const cursor = store.listAudit({ limit: 1, cursor: 'abc' });
    expect(cursor).toBeInstanceOf(Promise);
    await expect(cursor).rejects.toThrow(TypeError);
  });
}

/**
 * Declares `title` with a fresh store from `factory` (on a fresh test clock) before each test,
 * closed after it, and runs each suite in it.
 */
export function describeAdminSuites(
  title: string,
  factory: AdminStorageFactory,
  suites: readonly ((ctx: AdminSuiteContext) => void)[],
): void {
  describe(title, () => {
    let current: AdminStorage | undefined;
    let clock = createTestClock();
    const context: AdminSuiteContext = {
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
    afterEach(() => {
      current?.close();
      current = undefined;
    });
    for (const suite of suites) suite(context);
  });
}

/** Runs the whole admin conformance suite against the adapter `factory` makes. */
export function runAdminConformance(name: string, factory: AdminStorageFactory): void {
  describeAdminSuites(`admin storage conformance: ${name}`, factory, [
    apiKeySuite,
    auditSuite,
    adminLinksSuite,
    adminLinkKindsSuite,
    settingsSuite,
    closedSuite,
  ]);
}
