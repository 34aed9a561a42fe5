/** Browser sessions: tokens, hashes, lifetimes, touching, CSRF tokens. */
import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createWebSessions, csrfToken } from '../../src/admin/web-sessions.js';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import type { WebSessions } from '../../src/http/web/types.js';

function setup(): {
  sessions: WebSessions;
  store: ReturnType<typeof createMemoryAdminStorage>;
  advance: (s: number) => void;
} {
  let now = Date.UTC(2026, 0, 1);
  const store = createMemoryAdminStorage();
  const sessions: WebSessions = createWebSessions({ store, clock: () => new Date(now) });
  return { sessions, store, advance: (s) => (now += s * 1000) };
}

describe('web sessions', () => {
  test('ok/a token is 32 random bytes in base64url and only its SHA-256 is stored', async () => {
    const { sessions, store } = setup();
    const { token, session } = await sessions.create('portal', 'usr_1');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const hash = createHash('sha256').update(token).digest('hex');
    expect(session.idHash).toBe(hash);
    expect((await store.findWebSession(hash))?.subjectId).toBe('usr_1');
    expect(await store.findWebSession(token)).toBeUndefined();
  });

  test('ok/resume finds the session of its kind only', async () => {
    const { sessions } = setup();
    const { token, session } = await sessions.create('portal', 'usr_1');
    expect(await sessions.resume('portal', token)).toEqual(session);
    expect(await sessions.resume('console', token)).toBeUndefined();
    expect(await sessions.resume('portal', 'x'.repeat(43))).toBeUndefined();
    expect(await sessions.resume('portal', 'not a token')).toBeUndefined();
  });

  test('ok/the idle timeout ends a quiet session; activity keeps it alive up to the absolute lifetime', async () => {
    const { sessions, advance } = setup();
    const quiet = await sessions.create('console', 'adm_1');
    const busy = await sessions.create('console', 'adm_2');
    for (let minutes = 0; minutes < 7 * 60 + 40; minutes += 20) {
      advance(20 * 60);
      expect(await sessions.resume('console', busy.token)).toBeDefined();
    }
    expect(await sessions.resume('console', quiet.token)).toBeUndefined();
    advance(20 * 60); // 8 h after sign-in: the console's absolute lifetime
    expect(await sessions.resume('console', busy.token)).toBeUndefined();
  });

  test('ok/the portal lasts 12 h at most', async () => {
    const { sessions, advance } = setup();
    const s = await sessions.create('portal', 'usr_1');
    for (let i = 0; i < 35; i++) {
      advance(20 * 60);
      expect(await sessions.resume('portal', s.token)).toBeDefined();
    }
    advance(20 * 60);
    expect(await sessions.resume('portal', s.token)).toBeUndefined();
  });

  test('ok/end deletes the session', async () => {
    const { sessions, store } = setup();
    const { token, session } = await sessions.create('portal', 'usr_1');
    await sessions.end(token);
    expect(await sessions.resume('portal', token)).toBeUndefined();
    expect(await store.findWebSession(session.idHash)).toBeUndefined();
  });

  test('ok/a session is written back at most once a minute', async () => {
    const { sessions, store, advance } = setup();
    const { token } = await sessions.create('portal', 'usr_1');
    let touches = 0;
    const touch = store.touchWebSession.bind(store);
    store.touchWebSession = (...args) => {
      touches++;
      return touch(...args);
    };
    for (let i = 0; i < 10; i++) {
      advance(5);
      await sessions.resume('portal', token);
    }
    expect(touches).toBe(0);
    advance(60);
    await sessions.resume('portal', token);
    expect(touches).toBe(1);
  });

  test('ok/expired sessions are purged at a sign-in, at most once an hour', async () => {
    const { sessions, store, advance } = setup();
    const old = await sessions.create('portal', 'usr_1');
    let purges = 0;
    const purge = store.purgeWebSessions.bind(store);
    store.purgeWebSessions = (now) => {
      purges++;
      return purge(now);
    };
    advance(3600);
    await sessions.create('portal', 'usr_2');
    expect(purges).toBe(1);
    expect(await store.findWebSession(old.session.idHash)).toBeUndefined();
    advance(60);
    await sessions.create('portal', 'usr_3');
    expect(purges).toBe(1);
  });

  test('ok/the CSRF token is HMAC(token, "csrf") and checked exactly', async () => {
    const { sessions } = setup();
    const a = await sessions.create('portal', 'usr_1');
    const b = await sessions.create('portal', 'usr_1');
    expect(a.session.csrf).toBe(csrfToken(a.token));
    expect(sessions.checkCsrf(a.session, a.session.csrf)).toBe(true);
    expect(sessions.checkCsrf(a.session, b.session.csrf)).toBe(false);
    expect(sessions.checkCsrf(a.session, undefined)).toBe(false);
    expect(sessions.checkCsrf(a.session, '')).toBe(false);
  });
});
