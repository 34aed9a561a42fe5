/**
 * Signing in to the portal: the sign-in form (username or e-mail and password; the same answer
 * for an unknown login and a wrong password; failures counted per client address), the
 * password setup from the invitation link, and signing out. A new session (a new token) is made
 * at every sign-in; the sign-in and setup forms, which have no session yet, are checked by Origin.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { recordAudit } from '../../../admin/audit.js';
import { passwordProblem } from '../../../admin/passwords.js';
import { notice, page } from '../layout.js';
import { messagePage, tooManyAttempts } from '../pages.js';
import {
  clearSessionCookie,
  clientOf,
  formField,
  sameOrigin,
  sessionToken,
  setSessionCookie,
  type WebEnv,
} from '../security.js';
import type { WebDeps } from '../types.js';

type PortalContext = Context<WebEnv>;

const SIGN_IN_FAILED = 'The username, e-mail or password is not right.';

/** The sign-in form, with an error message when the last attempt failed. */
export function signInForm(c: PortalContext, error?: string, status: 200 | 403 = 200) {
  return c.html(
    page({
      title: 'Sign in',
      area: 'portal',
      body: html`<h1>Sign in</h1>
        ${error === undefined ? '' : notice('error', error)}
        <form method="post" action="/portal/sign-in" class="stack">
          <div>
            <label for="login">Username or e-mail</label>
            <input id="login" name="login" type="text" autocomplete="username" required />
          </div>
          <div>
            <label for="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
            />
          </div>
          <div><button type="submit">Sign in</button></div>
        </form>
        <p class="muted">No password yet? Use the link in your invitation e-mail to set one.</p>`,
    }),
    status,
  );
}

const crossSite = (c: PortalContext) =>
  messagePage(c, 403, 'Form refused', 'The form was not sent from this site, so nothing was done.');

/** Starts a new portal session for `userId` (ending the one the browser had) and goes home. */
async function startSession(c: PortalContext, deps: WebDeps, userId: string): Promise<Response> {
  const old = sessionToken(c, 'portal');
  if (old !== undefined) await deps.sessions.end(old);
  const { token } = await deps.sessions.create('portal', userId);
  setSessionCookie(c, 'portal', token, deps.secureCookies);
  return c.redirect('/portal/', 303);
}

/** `POST /portal/sign-in`. */
export async function signIn(c: PortalContext, deps: WebDeps): Promise<Response> {
  if (!sameOrigin(c, deps.publicUrl())) return crossSite(c);
  const limiter = c.get('failedLogins');
  const client = clientOf(c);
  const wait = await limiter.blocked(client);
  if (wait !== undefined) return tooManyAttempts(c, wait);
  const login = (await formField(c, 'login')) ?? '';
  const password = (await formField(c, 'password')) ?? '';
  const user = await deps.accounts.signInUser(login, password);
  if (user === undefined) {
    await limiter.failed(client);
    return signInForm(c, SIGN_IN_FAILED, 403);
  }
  await recordAudit(deps.admin, `user:${user.id}`, 'portal.sign-in', user.id, { client });
  return startSession(c, deps, user.id);
}

/** `POST /portal/sign-out` (behind `requirePortal`, so the CSRF token was checked). */
export async function signOut(c: PortalContext, deps: WebDeps): Promise<Response> {
  const token = sessionToken(c, 'portal');
  if (token !== undefined) await deps.sessions.end(token);
  clearSessionCookie(c, 'portal', deps.secureCookies);
  return c.redirect('/portal/sign-in', 303);
}

/** The password setup form of an invitation link's token. */
export function setupForm(
  c: PortalContext,
  token: string,
  error?: string,
  status: 200 | 400 = 200,
) {
  return c.html(
    page({
      title: 'Choose your password',
      area: 'portal',
      body: html`<h1>Choose your password</h1>
        ${error === undefined ? '' : notice('error', error)}
        <form method="post" action="/portal/setup" class="stack">
          <input type="hidden" name="token" value="${token}" />
          <div>
            <label for="password">New password (at least 12 characters)</label>
            <input
              id="password"
              name="password"
              type="password"
              autocomplete="new-password"
              minlength="12"
              required
            />
          </div>
          <div>
            <label for="confirm">The same password again</label>
            <input
              id="confirm"
              name="confirm"
              type="password"
              autocomplete="new-password"
              minlength="12"
              required
            />
          </div>
          <div><button type="submit">Set password and sign in</button></div>
        </form>`,
    }),
    status,
  );
}

/** `POST /portal/setup`: sets the password with the invitation's token and signs in. */
export async function setup(c: PortalContext, deps: WebDeps): Promise<Response> {
  if (!sameOrigin(c, deps.publicUrl())) return crossSite(c);
  const token = (await formField(c, 'token')) ?? c.req.query('token') ?? '';
  const password = (await formField(c, 'password')) ?? '';
  if (password !== ((await formField(c, 'confirm')) ?? ''))
    return setupForm(c, token, 'The two passwords are not the same.', 400);
  const problem = passwordProblem(password);
  if (problem !== undefined) return setupForm(c, token, problem, 400);
  const user = await deps.accounts.setUserPassword(token, password);
  if (user === undefined)
    return messagePage(
      c,
      400,
      'This link does not work any more',
      'The link was used already or has expired. Ask IT to send you a new invitation.',
    );
  await recordAudit(deps.admin, `user:${user.id}`, 'portal.password.set', user.id);
  return startSession(c, deps, user.id);
}
