/**
 * The conformance suite of the portal's and console's stores (issue 19): browser sessions,
 * passwords and password-setup tokens, which the memory and SQLite adapters must pass alike.
 */
import { describe, expect, test } from '@jest/globals';
import type { SetupTokenRecord, WebSessionRecord } from '../../src/storage/ports.js';
import {
  describeAdminSuites,
  type AdminStorageFactory,
  type AdminSuiteContext,
} from './conformance-admin.js';

const at = (ms: number): Date => new Date(Date.UTC(2026, 0, 1) + ms);

function session(idHash: string, over: Partial<WebSessionRecord> = {}): WebSessionRecord {
  return {
    idHash,
    kind: 'portal',
    subjectId: 'usr_1',
    createdAt: at(0),
    expiresAt: at(60_000),
    lastSeenAt: at(0),
    ...over,
  };
}

function setupToken(hash: string, over: Partial<SetupTokenRecord> = {}): SetupTokenRecord {
  return {
    hash,
    subject: 'user',
    subjectId: 'usr_1',
    createdAt: at(0),
    expiresAt: at(60_000),
    ...over,
  };
}

function sessionSuite(ctx: AdminSuiteContext): void {
  describe('web sessions', () => {
    test('ok/a session is stored, found, touched and deleted', async () => {
      const store = ctx.store();
      await store.createWebSession(session('a'));
      expect(await store.findWebSession('a')).toEqual(session('a'));
      expect(await store.findWebSession('b')).toBeUndefined();
      expect(await store.touchWebSession('a', at(10), at(70_000))).toBe(true);
      expect(await store.findWebSession('a')).toEqual(
        session('a', { lastSeenAt: at(10), expiresAt: at(70_000) }),
      );
      expect(await store.touchWebSession('b', at(10), at(70_000))).toBe(false);
      expect(await store.deleteWebSession('a')).toBe(true);
      expect(await store.deleteWebSession('a')).toBe(false);
      expect(await store.findWebSession('a')).toBeUndefined();
    });

    test('fail/a duplicate hash rejects with TypeError and keeps the first', async () => {
      const store = ctx.store();
      await store.createWebSession(session('a'));
      await expect(store.createWebSession(session('a', { subjectId: 'usr_2' }))).rejects.toThrow(
        TypeError,
      );
      expect((await store.findWebSession('a'))?.subjectId).toBe('usr_1');
    });

    test('ok/every session of one subject and kind ends, others stay', async () => {
      const store = ctx.store();
      await store.createWebSession(session('a'));
      await store.createWebSession(session('b'));
      await store.createWebSession(session('c', { kind: 'console' }));
      await store.createWebSession(session('d', { subjectId: 'usr_2' }));
      expect(await store.deleteWebSessionsOf('portal', 'usr_1')).toBe(2);
      expect(await store.deleteWebSessionsOf('portal', 'usr_1')).toBe(0);
      expect(await store.findWebSession('c')).toBeDefined();
      expect(await store.findWebSession('d')).toBeDefined();
    });

    test('ok/purge deletes only sessions expired before now', async () => {
      const store = ctx.store();
      await store.createWebSession(session('old', { expiresAt: at(100) }));
      await store.createWebSession(session('edge', { expiresAt: at(200) }));
      await store.createWebSession(session('new', { expiresAt: at(300) }));
      expect(await store.purgeWebSessions(at(200))).toBe(1);
      expect(await store.findWebSession('old')).toBeUndefined();
      expect(await store.findWebSession('edge')).toBeDefined();
      expect(await store.findWebSession('new')).toBeDefined();
    });
  });
}

function credentialSuite(ctx: AdminSuiteContext): void {
  describe('passwords', () => {
    test('ok/a password is set, replaced, found per subject and deleted', async () => {
      const store = ctx.store();
      const first = { subject: 'user' as const, subjectId: 'x', hash: 'h1', updatedAt: at(1) };
      await store.setPassword(first);
      expect(await store.findPassword('user', 'x')).toEqual(first);
      expect(await store.findPassword('admin', 'x')).toBeUndefined();
      await store.setPassword({ ...first, hash: 'h2', updatedAt: at(2) });
      expect(await store.findPassword('user', 'x')).toEqual({
        ...first,
        hash: 'h2',
        updatedAt: at(2),
      });
      await store.setPassword({ ...first, subject: 'admin', hash: 'h3' });
      expect(await store.deletePassword('user', 'x')).toBe(true);
      expect(await store.deletePassword('user', 'x')).toBe(false);
      expect((await store.findPassword('admin', 'x'))?.hash).toBe('h3');
    });
  });

  describe('setup tokens', () => {
    test('ok/a token is consumed once, stamped with the time of use', async () => {
      const store = ctx.store();
      await store.createSetupToken(setupToken('t'));
      expect(await store.consumeSetupToken('t', at(10))).toEqual({
        ...setupToken('t'),
        usedAt: at(10),
      });
      expect(await store.consumeSetupToken('t', at(11))).toBeUndefined();
      expect(await store.consumeSetupToken('unknown', at(11))).toBeUndefined();
    });

    test('fail/an expired token is not consumed (expiry instant included)', async () => {
      const store = ctx.store();
      await store.createSetupToken(setupToken('t', { expiresAt: at(100) }));
      expect(await store.consumeSetupToken('t', at(100))).toBeUndefined();
      expect(await store.consumeSetupToken('t', at(99))).toBeDefined();
    });

    test('fail/a duplicate hash rejects with TypeError', async () => {
      const store = ctx.store();
      await store.createSetupToken(setupToken('t'));
      await expect(store.createSetupToken(setupToken('t'))).rejects.toThrow(TypeError);
    });

    test('ok/of many concurrent consumers exactly one gets the token', async () => {
      const store = ctx.store();
      await store.createSetupToken(setupToken('t'));
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.consumeSetupToken('t', at(5))),
      );
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });
  });
}

/** Runs the web stores' conformance suite against the adapter `factory` makes. */
export function runWebConformance(name: string, factory: AdminStorageFactory): void {
  describeAdminSuites(`web storage conformance: ${name}`, factory, [sessionSuite, credentialSuite]);
}
