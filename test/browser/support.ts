/**
 * What the browser tests share: one daemon per test file (SQLite in a tmp data dir, an API key,
 * an SMTP sink), users and simulated devices made through the admin API and personal links, one
 * headless Debian chromium per file (contexts per person), and the sign-in steps of both areas.
 * A missing `/usr/bin/chromium` fails the file: `.ci/run` installs it, tests never skip.
 * `test/browser/screenshots.ts` uses the same steps.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import {
  createKeyPool,
  createSimDevice,
  type SimDeviceHandle,
  type SimKeyPool,
} from '../../src/sim/index.js';
import { startHarness, type Harness } from '../daemon/harness.js';
import { startMailSink, type MailSink } from '../support/mail.js';

/** Throws `message` unless `ok`, with what was received (messages read better than matchers here). */
export function must(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/** Where `.ci/run` installs Debian's chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** A portal password long enough for the 12-character rule. */
export const PASSWORD = 'correct horse battery staple';

/** One browser test file's world: the daemon, its mail, a device key pool and a browser. */
export interface World {
  h: Harness;
  mail: MailSink;
  keys: SimKeyPool;
  browser: Browser;
  /** The daemon's base URL (`http://127.0.0.1:port`). */
  base: string;
  close(): Promise<void>;
}

/** Launches headless chromium (flags for root, containers and small /dev/shm); throws when it is not installed. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** Starts the daemon, the SMTP sink, one device key and the browser, all at once. */
export async function startWorld(): Promise<World> {
  const mail = await startMailSink();
  const [h, keys, browser] = await Promise.all([
    startHarness({ smtpUrl: mail.url, smtpFrom: 'it@example.com' }),
    createKeyPool(1),
    launchBrowser(),
  ]);
  return {
    h,
    mail,
    keys,
    browser,
    base: h.daemon.url.replace(/\/$/, ''),
    async close() {
      await browser.close();
      await h.close();
      await mail.close();
    },
  };
}

/** Creates a group under `parentId`; its id. */
export async function createGroup(h: Harness, name: string, parentId = 'global'): Promise<string> {
  const res = await h.api('POST', '/api/v1/groups', { name, parentId });
  must(res.status === 201, `group ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Creates a user (with a policy by name or id when given); its id. */
export async function createUser(
  h: Harness,
  input: { username: string; email: string; groupId?: string; policy?: string },
): Promise<string> {
  const res = await h.api('POST', '/api/v1/users', { groupId: 'global', ...input });
  must(res.status === 201, `user ${input.username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** A simulated iPhone (no declarative management: profiles travel as InstallProfile) enrolled through the user's personal link. */
export async function enrollFor(
  w: World,
  userId: string,
  deviceName?: string,
): Promise<SimDeviceHandle> {
  const link = await w.h.api('GET', `/api/v1/users/${userId}/enrollment-link`);
  must(link.status === 200, `enrollment link: ${link.status}`);
  const device = createSimDevice({
    platform: 'iOS',
    osVersion: '18.1',
    keys: w.keys,
    ...(deviceName === undefined ? {} : { deviceName }),
  });
  await device.enroll({ url: link.body.url as string });
  const owned = await w.h.api('GET', `/api/v1/enrollments/${device.enrollmentId}`);
  must(owned.body.userId === userId, `the device is not ${userId}'s`);
  return device;
}

/** The `/portal/setup?token=...` link of the next invitation mail sent to the user. */
export async function setupLinkFor(w: World, userId: string): Promise<string> {
  const before = w.mail.messages.length;
  const sent = await w.h.api('POST', `/api/v1/users/${userId}/enrollment-link/send`);
  must(sent.status === 200, `invitation: ${sent.status} ${JSON.stringify(sent.body)}`);
  const message = await w.mail.next(before + 1);
  const texts = message.parts
    .filter((p) => /^text\/plain/.test(p.headers['content-type'] ?? ''))
    .map((p) => p.body.toString('utf8'));
  const found = texts.join('\n').match(/https?:\/\/[^\s"'<>]*\/portal\/setup\?token=[^\s"'<>]+/);
  must(found !== null, `no /portal/setup link in the invitation mail:\n${texts.join('\n')}`);
  return found[0].replace(/&amp;/g, '&');
}

/** A fresh browser context (its own cookies) with a page that records every dialog. */
export async function openPage(
  w: World,
): Promise<{ context: BrowserContext; page: Page; dialogs: string[] }> {
  const context = await w.browser.newContext({ baseURL: w.base });
  // Pages answer in milliseconds: a missing element or navigation fails fast, not after 30 s.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { context, page, dialogs };
}

/** Sets the user's portal password through the invitation's setup link: the page signs them in. */
export async function setPasswordThroughMail(w: World, page: Page, userId: string): Promise<void> {
  const link = await setupLinkFor(w, userId);
  await page.goto(new URL(link).pathname + new URL(link).search);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('input[name="confirm"]').fill(PASSWORD);
  await submitAndLand(page, passwordForm(page), /\/portal\/(\?.*)?$/);
}

/** Signs in to the portal with `login` and {@link PASSWORD}; lands on the device list. */
export async function portalSignIn(page: Page, login: string): Promise<void> {
  await page.goto('/portal/sign-in');
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await submitAndLand(page, passwordForm(page), /\/portal\/(\?.*)?$/);
}

/** Signs in to the console with the daemon's API key; lands on the dashboard. */
export async function consoleSignIn(w: World, page: Page): Promise<void> {
  await page.goto('/console/sign-in');
  await page.locator('input[name="apiKey"]').fill(w.h.apiKey);
  const button = page.locator('form:has(input[name="apiKey"]) button').first();
  await submitAndLand(page, button, /\/console\/(\?.*)?$/);
}

/**
 * Presses `button` and checks the post landed on a page whose URL matches `landing`; otherwise
 * throws with where it stayed, its status and its alert text (e.g. a refused sign-in).
 */
async function submitAndLand(page: Page, button: Locator, landing: RegExp): Promise<void> {
  const answer = page.waitForResponse((r) => r.request().method() === 'POST');
  await clickAndLoad(page, button);
  if (landing.test(page.url())) return;
  const alert = await page.locator('[role="alert"]').allInnerTexts();
  throw new Error(
    `the form led to ${page.url()} (POST answered ${(await answer).status()}): ${alert.join(' ') || '(no alert)'}`,
  );
}

/**
 * Clicks `target` (a submit button) and waits for the page the post leads to: the main frame's
 * next navigation (after the 303), then its load. Waiting on the load state alone could read
 * the old page.
 */
export async function clickAndLoad(page: Page, target: Locator): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', (f) => f === page.mainFrame());
  await target.click();
  await navigated;
  await page.waitForLoadState('load');
}

/** The submit button of the form on the page that holds a password field. */
function passwordForm(page: Page): Locator {
  return page.locator('form:has(input[name="password"]) button').first();
}

/**
 * Connects `device` and reloads `page` until `done` holds, at most `rounds` times (counted,
 * never timed): delivery queues on core events, so one connection may queue more for the next.
 */
export async function settleOnPage(
  device: Pick<SimDeviceHandle, 'connect'>,
  page: Page,
  done: () => Promise<boolean>,
  rounds = 20,
): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const session = await device.connect();
    must(session.errors.length === 0, `device errors: ${session.errors.join('; ')}`);
    await page.reload();
    if (await done()) return;
    await sleep(50);
  }
  throw new Error(`the page did not settle in ${rounds} connections`);
}

/** The request types of the commands queued to an enrollment, oldest first. */
export async function commandTypes(h: Harness, enrollmentId: string): Promise<string[]> {
  const res = await h.api(
    'GET',
    `/api/v1/enrollments/${encodeURIComponent(enrollmentId)}/commands?limit=1000`,
  );
  must(res.status === 200, `commands: ${res.status}`);
  return (res.body.items as { requestType: string }[]).map((c) => c.requestType);
}
