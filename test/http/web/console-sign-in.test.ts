/**
 * Console sign-in: a name and password or an API key give a session cookie (HttpOnly,
 * SameSite=Lax, path /console/); wrong credentials get the same refusal whatever was wrong, and
 * failures are rate-limited per client; a cross-site sign-in post is refused; signed out, pages
 * redirect to the sign-in page; a POST without the session's CSRF token is refused (403).
 */
import { describe, expect, test } from '@jest/globals';
import { createApiKey } from '../../../src/admin/api-keys.js';
import { CONSOLE_SIGN_IN_PER_MINUTE } from '../../../src/http/web/console/sign-in.js';
import { createFailedLoginLimiter } from '../../../src/http/rate-limit.js';
import { consoleWorld, type ConsoleWorld } from './console-fixture.js';

const PASSWORD = 'correct horse battery staple';

async function signIn(
  w: ConsoleWorld,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return w.app.request('http://localhost/console/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

const cookieOf = (res: Response): string =>
  (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

describe('sign-in', () => {
  test('ok/a name and password sign in; the cookie is HttpOnly, Lax, /console/', async () => {
    const w = await consoleWorld();
    await w.deps.accounts.setAdminPassword(w.admins.root, PASSWORD);
    const res = await signIn(w, { name: 'root-admin', password: PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^orchard_console=[A-Za-z0-9_-]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\/console\//);
    const page = await w.get('/console/', { cookie: cookieOf(res) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('root-admin (full)');
  });

  test('ok/an API key signs in; a read key of a full administrator is refused (a session follows the role)', async () => {
    const w = await consoleWorld();
    const { key } = await createApiKey(w.admin, 'laptop', 'write', w.admins.europe);
    const res = await signIn(w, { apiKey: key });
    expect(res.status).toBe(303);
    const page = await w.get('/console/', { cookie: cookieOf(res) });
    expect(await page.text()).toContain('europe-admin (full)');
    const read = await createApiKey(w.admin, 'reader', 'read', w.admins.europe);
    const refused = await signIn(w, { apiKey: read.key });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect(await refused.text()).toContain('read-only API key');
    const readerKey = await createApiKey(w.admin, 'reader', 'read', w.admins.reader);
    const reader = await signIn(w, { apiKey: readerKey.key });
    const readerPage = await w.get('/console/', { cookie: cookieOf(reader) });
    expect(await readerPage.text()).toContain('reader (read-only)');
  });

  test('fail/wrong password, unknown name and wrong key get the same answer', async () => {
    const w = await consoleWorld();
    await w.deps.accounts.setAdminPassword(w.admins.root, PASSWORD);
    const answers = await Promise.all([
      signIn(w, { name: 'root-admin', password: 'wrong password here' }),
      signIn(w, { name: 'nobody-at-all', password: PASSWORD }),
      signIn(w, { apiKey: 'ok_not_a_key' }),
    ]);
    const texts = await Promise.all(answers.map((r) => r.text()));
    expect(answers.map((r) => r.status)).toEqual([403, 403, 403]);
    expect(answers.every((r) => r.headers.get('set-cookie') === null)).toBe(true);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toContain('Those credentials were not accepted.');
  });

  test('fail/failures past the limit are refused 429 with Retry-After, even the right password', async () => {
    // The limiter's clock stands still: no token refills however long the sign-ins take.
    const failedLogins = createFailedLoginLimiter({
      perMinute: CONSOLE_SIGN_IN_PER_MINUTE,
      now: () => 0,
    });
    const w = await consoleWorld({ failedLogins });
    await w.deps.accounts.setAdminPassword(w.admins.root, PASSWORD);
    for (let i = 0; i < CONSOLE_SIGN_IN_PER_MINUTE; i++)
      expect(
        (await signIn(w, { name: 'root-admin', password: 'wrong password here' })).status,
      ).toBe(403);
    const blocked = await signIn(w, { name: 'root-admin', password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('fail/a sign-in posted from another site is refused', async () => {
    const w = await consoleWorld();
    await w.deps.accounts.setAdminPassword(w.admins.root, PASSWORD);
    const res = await signIn(
      w,
      { name: 'root-admin', password: PASSWORD },
      { origin: 'https://evil.example' },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('sessions', () => {
  test('ok/signed out, pages redirect to the sign-in page', async () => {
    const w = await consoleWorld();
    for (const path of ['/console/', '/console/devices', '/console/users']) {
      const res = await w.get(path, { cookie: '' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/console/sign-in');
    }
    const form = await w.get('/console/sign-in', { cookie: '' });
    expect(form.status).toBe(200);
    const text = await form.text();
    expect(text).toMatch(/<label for="name">/);
    expect(text).toMatch(/<label for="apiKey">/);
  });

  test('ok/sign-out ends the session', async () => {
    const w = await consoleWorld();
    const who = await w.session(w.admins.root);
    const out = await w.post('/console/sign-out', who, {});
    expect(out.status).toBe(303);
    expect((await w.get('/console/', who)).status).toBe(303);
  });

  test('CSRF fail/a POST without or with a wrong token is refused 403 and changes nothing', async () => {
    const w = await consoleWorld();
    const who = await w.session(w.admins.root);
    const form = { username: 'eve', email: 'eve@example.com', groupId: 'global' };
    for (const _csrf of ['', 'forged-token']) {
      const res = await w.post('/console/users', who, { ...form, _csrf });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('security token');
    }
    expect(await w.admin.findUserByUsername('eve')).toBeUndefined();
    const ok = await w.post('/console/users', who, form);
    expect(ok.status).toBe(303);
    expect(await w.admin.findUserByUsername('eve')).toBeDefined();
  });
});
