/** Portal sign-in, sessions, setup links and CSRF over the whole web app. */
import { describe, expect, test } from '@jest/globals';
import { PASSWORD, portalWorld } from './portal-fixture.js';

const ORIGIN = 'https://mdm.example.com';

describe('portal sign-in', () => {
  test('ok/signed out, / redirects to the sign-in page, which has labelled fields', async () => {
    const w = await portalWorld();
    const res = await w.request('/portal/');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/portal/sign-in');
    const page = await (await w.request('/portal/sign-in')).text();
    expect(page).toContain('<label for="login">');
    expect(page).toContain('<label for="password">');
    expect(page).toContain('<html lang="en">');
  });

  test('ok/the right password signs in: a Secure HttpOnly SameSite=Lax cookie on /portal/', async () => {
    const w = await portalWorld();
    const res = await w.signInRaw('ann', PASSWORD);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/portal/');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^orchard_portal=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\/portal\//);
    expect(await w.deps.admin.listAudit({ limit: 5 })).toMatchObject({
      items: expect.arrayContaining([
        expect.objectContaining({ actor: `user:${w.ann.id}`, action: 'portal.sign-in' }),
      ]),
    });
  });

  test('ok/e-mail works as the login too', async () => {
    const w = await portalWorld();
    expect((await w.signInRaw('ANN@example.com', PASSWORD)).status).toBe(303);
  });

  test('fail/a wrong password and an unknown user get the very same answer', async () => {
    const w = await portalWorld();
    const wrong = await w.signInRaw('ann', 'not the password at all');
    const unknown = await w.signInRaw('nobody', PASSWORD);
    expect(wrong.status).toBe(403);
    expect(unknown.status).toBe(403);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toBe(await unknown.text());
  });

  test('fail/after 5 failures a client is refused 429 with Retry-After, even with the right password; others are not', async () => {
    const w = await portalWorld();
    for (let i = 0; i < 5; i++)
      expect((await w.signInRaw('ann', 'wrong password here', '198.51.100.7')).status).toBe(403);
    const blocked = await w.signInRaw('ann', PASSWORD, '198.51.100.7');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await w.signInRaw('ann', PASSWORD, '203.0.113.9')).status).toBe(303);
  });

  /** Posts Ann's correct credentials to the sign-in form with these extra headers. */
  const postSignIn = (
    w: Awaited<ReturnType<typeof portalWorld>>,
    headers: Record<string, string>,
  ) =>
    w.request('/portal/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ login: 'ann', password: PASSWORD }),
    });

  test('fail/a sign-in posted from another site is refused', async () => {
    const res = await postSignIn(await portalWorld(), { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  test('ok/a browser posting our own form with Origin: null (no-referrer pages) and Sec-Fetch-Site: same-origin signs in', async () => {
    const res = await postSignIn(await portalWorld(), {
      origin: 'null',
      'sec-fetch-site': 'same-origin',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(/^orchard_portal=/);
  });

  test.each(['same-site', 'cross-site'])(
    'fail/a sign-in with Origin: null from a %s page is refused',
    async (site) => {
      const res = await postSignIn(await portalWorld(), { origin: 'null', 'sec-fetch-site': site });
      expect(res.status).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
    },
  );

  test('fail/Origin: null without fetch metadata is refused', async () => {
    const res = await postSignIn(await portalWorld(), { origin: 'null' });
    expect(res.status).toBe(403);
  });

  test('ok/signing in again rotates the session: the old cookie stops working', async () => {
    const w = await portalWorld();
    const first = await w.signIn('ann');
    const res = await postSignIn(w, { cookie: first.cookie, origin: ORIGIN });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).not.toContain(first.cookie);
    expect((await w.get('/portal/', first)).status).toBe(303);
  });

  test('ok/sign-out ends the session', async () => {
    const w = await portalWorld();
    const ann = await w.signIn('ann');
    const out = await w.post('/portal/sign-out', ann);
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/portal/sign-in');
    expect(out.headers.get('set-cookie')).toMatch(/^orchard_portal=;/);
    expect((await w.get('/portal/', ann)).status).toBe(303);
  });
});

describe('portal CSRF', () => {
  test('fail/a POST without the token is refused 403 and changes nothing', async () => {
    const w = await portalWorld();
    const ann = await w.signIn('ann');
    const res = await w.post('/portal/sign-out', ann, { _csrf: '' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('This form has expired');
    expect((await w.get('/portal/', ann)).status).toBe(200);
  });

  test("fail/another session's token is refused", async () => {
    const w = await portalWorld();
    const ann = await w.signIn('ann');
    const bob = await w.signIn('bob');
    const res = await w.post('/portal/sign-out', ann, { _csrf: bob.csrf });
    expect(res.status).toBe(403);
    expect((await w.get('/portal/', ann)).status).toBe(200);
  });
});

describe('portal password setup', () => {
  test('ok/the invitation token sets a password once and signs the user in', async () => {
    const w = await portalWorld();
    const token = await w.deps.accounts.setupToken(w.ann.id);
    const form = await (await w.request(`/portal/setup?token=${token}`)).text();
    expect(form).toContain(`name="token" value="${token}"`);
    const post = (password: string, confirm = password) =>
      w.request('/portal/setup', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
        body: new URLSearchParams({ token, password, confirm }),
      });
    expect((await post('a new password!!', 'another one!!!!!')).status).toBe(400);
    const short = await post('too short');
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('at least 12');
    const ok = await post('a new password!!');
    expect(ok.status).toBe(303);
    expect(ok.headers.get('set-cookie')).toMatch(/^orchard_portal=/);
    expect((await post('a new password!!')).status).toBe(400);
    expect((await w.signInRaw('ann', 'a new password!!')).status).toBe(303);
    expect((await w.signInRaw('ann', PASSWORD)).status).toBe(403);
  });
});
