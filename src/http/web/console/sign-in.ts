/**
 * The console's sign-in and sign-out: an administrator's name and password, or an API key
 * exchanged for a session (`deps.accounts`), a new session token on every sign-in, failures
 * counted per client address (the same answer for an unknown name and a wrong password), and
 * the Origin check standing in for a CSRF token before any session exists.
 */
import type { Caller } from '../../../admin/principals.js';
import { createFailedLoginLimiter, type FailedLoginLimiter } from '../../rate-limit.js';
import type { WebDeps } from '../types.js';
import {
  clearSessionCookie,
  notice,
  page,
  requireConsole,
  sameOrigin,
  sessionToken,
  setSessionCookie,
} from './foundation.js';
import { h, readForm, type ConsoleApp, type ConsoleContext, type Html } from './kit.js';

/** Failed console sign-ins allowed per client address and minute (ten times that overall). */
export const CONSOLE_SIGN_IN_PER_MINUTE = 10;

const MAX_FIELD = 1024;

function signInBody(message?: { kind: 'info' | 'error'; text: string }): Html {
  return h`<h1>Sign in to the console</h1>
${message === undefined ? '' : notice(message.kind, message.text)}
<section class="panel"><h2>With your name and password</h2>
<form method="post" action="/console/sign-in">
<p><label for="name">Administrator name</label>
<input id="name" name="name" autocomplete="username" required maxlength="${MAX_FIELD}"></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="${MAX_FIELD}"></p>
<p><button type="submit">Sign in</button></p></form></section>
<section class="panel"><h2>With an API key</h2>
<form method="post" action="/console/sign-in">
<p><label for="apiKey">API key</label>
<input id="apiKey" name="apiKey" type="password" autocomplete="off" required maxlength="${MAX_FIELD}"></p>
<p><button type="submit">Sign in with the key</button></p></form></section>`;
}

function signInPage(
  c: ConsoleContext,
  status: 200 | 400 | 403 | 429,
  message?: { kind: 'info' | 'error'; text: string },
) {
  return c.html(page({ title: 'Sign in', area: 'console', body: signInBody(message) }), status);
}

const clientOf = (c: ConsoleContext): string =>
  // `env` is absent when the app is called without bindings (tests' `app.request`).
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  c.env?.client ?? 'unknown';

/** Checks the posted credentials: a name and password, or an API key. */
async function check(deps: WebDeps, c: ConsoleContext): Promise<Caller | undefined> {
  const form = await readForm(c);
  const key = form.get('apiKey') ?? '';
  const name = form.get('name') ?? '';
  const password = form.get('password') ?? '';
  if ([key, name, password].some((v) => v.length > MAX_FIELD)) return undefined;
  if (key !== '') return deps.accounts.signInAdminWithKey(key);
  if (name === '' || password === '') return undefined;
  return deps.accounts.signInAdmin(name, password);
}

async function signIn(deps: WebDeps, limiter: FailedLoginLimiter, c: ConsoleContext) {
  if (!sameOrigin(c, deps.publicUrl()))
    return signInPage(c, 403, { kind: 'error', text: 'This form must be sent from this site.' });
  const client = clientOf(c);
  const wait = await limiter.blocked(client);
  if (wait !== undefined) {
    c.header('Retry-After', String(wait));
    const text = `Too many failed sign-ins. Try again in ${wait} seconds.`;
    return signInPage(c, 429, { kind: 'error', text });
  }
  const caller = await check(deps, c);
  if (caller === undefined) {
    await limiter.failed(client);
    return signInPage(c, 403, { kind: 'error', text: 'Those credentials were not accepted.' });
  }
  // A session carries no key scope (it follows the role): a read key must not open a full console.
  if (caller.keyScope === 'read' && caller.principal.role === 'full') {
    const text =
      'A read-only API key cannot open the console of a full administrator: use a write key or your password.';
    return signInPage(c, 403, { kind: 'error', text });
  }
  const old = sessionToken(c, 'console');
  if (old !== undefined) await deps.sessions.end(old);
  const { token } = await deps.sessions.create('console', caller.principal.id);
  setSessionCookie(c, 'console', token, deps.secureCookies);
  return c.redirect('/console/', 303);
}

/** Registers `GET|POST /console/sign-in` and `POST /console/sign-out`. */
export function signInRoutes(
  app: ConsoleApp,
  deps: WebDeps,
  limiter: FailedLoginLimiter = createFailedLoginLimiter({
    perMinute: CONSOLE_SIGN_IN_PER_MINUTE,
  }),
): void {
  app.get('/console/sign-in', (c) => signInPage(c, 200));
  app.post('/console/sign-in', (c) => signIn(deps, limiter, c));
  app.post('/console/sign-out', requireConsole(deps), async (c) => {
    const token = sessionToken(c, 'console');
    if (token !== undefined) await deps.sessions.end(token);
    clearSessionCookie(c, 'console', deps.secureCookies);
    return c.redirect('/console/sign-in', 303);
  });
}
