/**
 * The admin storage conformance suite: API keys, the audit log, enrollment links, settings and
 * `transaction`, which every {@link AdminStorage} adapter (memory, SQLite, later PostgreSQL) must
 * pass. Call `runAdminConformance(name, factory)` from a `*.test.ts`; the factory gets an
 * injected clock and returns a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { AdminStorage } from '../../src/storage/ports.js';
import { adminLinksSuite } from './conformance-admin-links.js';
import { adminTransactionSuite } from './conformance-admin-tx.js';
import { createTestClock, type TestClock } from './conformance.js';

/** Makes a fresh, empty admin store whose own timestamps come from `clock`. */
export type AdminStorageFactory = (context: { clock: () => Date }) => AdminStorage;

/** What each admin sub-suite gets: the current store and its clock (reset before every test). */
export interface AdminSuiteContext {
  store: () => AdminStorage;
  clock: TestClock;
}

function apiKeySuite(ctx: AdminSuiteContext): void {
  describe('API keys', () => {
    test('ok/a key is found by its hash, listed, counted, and listed with its hash while active', () => {
      const store = ctx.store();
      const k = store.createApiKey({ name: 'ci', scope: 'read', hash: 'h1' });
      expect(k).toEqual({ id: k.id, name: 'ci', scope: 'read', createdAt: ctx.clock.now() });
      expect(k.id).toMatch(/^ak_[0-9a-f]{12}$/);
      expect(store.findApiKeyByHash('h1')).toEqual(k);
      expect(store.findApiKeyByHash('h2')).toBeUndefined();
      expect(store.listApiKeys()).toEqual([k]);
      expect(store.listActiveApiKeys()).toEqual([{ record: k, hash: 'h1' }]);
      expect(store.countActiveApiKeys()).toBe(1);
    });

    test('ok/revoking stamps the clock, hides the key from lookups and keeps it listed', () => {
      const store = ctx.store();
      const k = store.createApiKey({ name: 'old', scope: 'write', hash: 'h1' });
      store.createApiKey({ name: 'new', scope: 'write', hash: 'h2' });
      ctx.clock.advance(5000);
      expect(store.revokeApiKey(k.id)).toBe(true);
      expect(store.revokeApiKey(k.id)).toBe(false);
      expect(store.revokeApiKey('ak_unknown')).toBe(false);
      expect(store.findApiKeyByHash('h1')).toBeUndefined();
      expect(store.listActiveApiKeys().map((a) => a.hash)).toEqual(['h2']);
      expect(store.countActiveApiKeys()).toBe(1);
      const listed = store.listApiKeys().find((r) => r.id === k.id);
      expect(listed).toEqual({ ...k, revokedAt: ctx.clock.now() });
    });

    test('ok/keys are listed oldest first, then by id', () => {
      const store = ctx.store();
      const a = store.createApiKey({ name: 'a', scope: 'read', hash: 'ha' });
      const b = store.createApiKey({ name: 'b', scope: 'read', hash: 'hb' });
      ctx.clock.advance(-1000);
      const early = store.createApiKey({ name: 'early', scope: 'read', hash: 'he' });
      const sameMs = [a, b].sort((x, y) => (x.id < y.id ? -1 : 1)).map((k) => k.name);
      expect(store.listApiKeys().map((k) => k.name)).toEqual([early.name, ...sameMs]);
    });

    test.each(['admin', '', 'READ'])('fail/scope %j is a TypeError and stores nothing', (scope) => {
      const store = ctx.store();
      const input = { name: 'x', scope: scope as 'read', hash: 'h' };
      expect(() => store.createApiKey(input)).toThrow(TypeError);
      expect(store.listApiKeys()).toEqual([]);
    });

    test('fail/a hash already stored is ERR_STORAGE and the first key stays', () => {
      const store = ctx.store();
      const first = store.createApiKey({ name: 'first', scope: 'read', hash: 'dup' });
      expect(() => store.createApiKey({ name: 'second', scope: 'write', hash: 'dup' })).toThrow(
        expect.objectContaining({ code: 'ERR_STORAGE' }),
      );
      expect(store.findApiKeyByHash('dup')).toEqual(first);
      expect(store.countActiveApiKeys()).toBe(1);
    });

    test('ok/records handed out are copies', () => {
      const store = ctx.store();
      const k = store.createApiKey({ name: 'ci', scope: 'read', hash: 'h1' });
      k.name = 'changed';
      k.createdAt.setTime(0);
      const found = store.findApiKeyByHash('h1');
      if (found) found.scope = 'write';
      expect(store.listApiKeys()[0]).toMatchObject({ name: 'ci', scope: 'read' });
      expect(store.listApiKeys()[0]?.createdAt).toEqual(ctx.clock.now());
    });
  });
}

function auditSuite(ctx: AdminSuiteContext): void {
  describe('audit log', () => {
    test('ok/entries are stamped by the clock, numbered, and listed newest first', () => {
      const store = ctx.store();
      const first = store.audit({
        actor: 'ak_1',
        action: 'key.create',
        target: 'ak_2',
        detail: {},
      });
      ctx.clock.advance(1000);
      const detail = { scope: 'read', nested: { list: [1, 'two', null] } };
      const second = store.audit({ actor: 'cli', action: 'link.revoke', target: 'et_1', detail });
      expect(second.seq).toBeGreaterThan(first.seq);
      expect(second).toEqual({
        seq: second.seq,
        at: ctx.clock.now(),
        actor: 'cli',
        action: 'link.revoke',
        target: 'et_1',
        detail,
      });
      expect(store.listAudit({ limit: 10 })).toEqual({ items: [second, first] });
    });

    test('ok/detail is kept as JSON: Dates become text, undefined members vanish', () => {
      const store = ctx.store();
      const at = new Date('2026-02-03T04:05:06.000Z');
      store.audit({ actor: 'a', action: 'b', target: 'c', detail: { at, gone: undefined, n: 1 } });
      expect(store.listAudit({ limit: 1 }).items[0]?.detail).toEqual({
        at: at.toISOString(),
        n: 1,
      });
    });

    test('ok/pages follow the cursor to the oldest entry; the last page has no cursor', () => {
      const store = ctx.store();
      const seqs = [1, 2, 3, 4, 5].map(
        (n) => store.audit({ actor: 'a', action: `x${String(n)}`, target: 't', detail: {} }).seq,
      );
      const pages: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = store.listAudit(cursor === undefined ? { limit: 2 } : { limit: 2, cursor });
        pages.push(page.items.map((e) => e.seq));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(pages).toEqual([seqs.slice(3).reverse(), seqs.slice(1, 3).reverse(), [seqs[0]]]);
      expect(store.listAudit({ limit: 5 }).nextCursor).toBeUndefined();
      expect(store.listAudit({ limit: 4 }).nextCursor).toBe(String(seqs[1]));
    });

    test.each(['abc', '-1', '1.5', '', '9999999999999999', ' 1'])(
      'fail/cursor %j is a TypeError',
      (cursor) => {
        const store = ctx.store();
        store.audit({ actor: 'a', action: 'b', target: 'c', detail: {} });
        expect(() => store.listAudit({ limit: 1, cursor })).toThrow(TypeError);
      },
    );

    test('fail/a detail that is not JSON is a TypeError and writes nothing', () => {
      const store = ctx.store();
      const detail = { n: 1n } as Record<string, unknown>;
      expect(() => store.audit({ actor: 'a', action: 'b', target: 'c', detail })).toThrow(
        TypeError,
      );
      expect(store.listAudit({ limit: 10 }).items).toEqual([]);
    });
  });
}

function settingsSuite(ctx: AdminSuiteContext): void {
  describe('settings', () => {
    test('ok/a setting is absent, stored, then replaced', () => {
      const store = ctx.store();
      expect(store.getMeta('public_url')).toBeUndefined();
      store.setMeta('public_url', 'https://mdm.example.com');
      store.setMeta('push_topic', 'com.apple.mgmt.External.1');
      store.setMeta('public_url', 'https://other.example.com');
      expect(store.getMeta('public_url')).toBe('https://other.example.com');
      expect(store.getMeta('push_topic')).toBe('com.apple.mgmt.External.1');
    });
  });
}

function closedSuite(ctx: AdminSuiteContext): void {
  test('fail/every call after close throws ERR_STORAGE; closing again is harmless', () => {
    const store = ctx.store();
    store.close();
    store.close();
    const calls: (() => unknown)[] = [
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
      () => {
        store.setMeta('k', 'v');
      },
      () => store.transaction(() => 1),
    ];
    for (const call of calls)
      expect(call).toThrow(expect.objectContaining({ code: 'ERR_STORAGE', status: 503 }));
  });
}

/** Runs the whole admin conformance suite against the adapter `factory` makes. */
export function runAdminConformance(name: string, factory: AdminStorageFactory): void {
  describe(`admin storage conformance: ${name}`, () => {
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
    beforeEach(() => {
      clock = createTestClock();
      current = factory({ clock: clock.now });
    });
    afterEach(() => {
      current?.close();
      current = undefined;
    });
    apiKeySuite(context);
    auditSuite(context);
    adminLinksSuite(context);
    settingsSuite(context);
    adminTransactionSuite(context);
    closedSuite(context);
  });
}
