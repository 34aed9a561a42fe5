/**
 * Issue 19's console proof in headless chromium against a daemon on 127.0.0.1 (SQLite): an
 * administrator signs in with an API key, sets a group's Profile Options to Override with
 * Interactive on and its Child Permission to Inherit only, assigns a profile to a policy as
 * Interactive, and sees that a child group's page is locked by that group (no form); imports a
 * CSV of users and sees the per-row report and a user's QR code (decoded back to the link);
 * a device named `<script>alert(1)</script>` shows as text in the device list and page.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import type { SimDeviceHandle } from '../../src/sim/index.js';
import { decodeQrPng } from '../support/mail.js';
import { oneProfile, policyApi } from '../e2e/policies-support.js';
import { encodePlist } from '../../src/index.js';
import {
  clickAndLoad,
  consoleSignIn,
  createGroup,
  createUser,
  enrollFor,
  openPage,
  startWorld,
  type World,
} from './support.js';

const XSS = '<script>alert(1)</script>';
const VPN = oneProfile('com.example.browser.vpn', 'com.apple.wifi.managed', {
  ...{ SSID_STR: 'Lab', AutoJoin: true, EncryptionType: 'None' },
});

let w: World;
let page: Page;
const dialogs: string[] = [];
const ids: { parent?: string; child?: string; policy?: string; profile?: string } = {};
let device: SimDeviceHandle;

beforeAll(async () => {
  w = await startWorld();
  ids.parent = await createGroup(w.h, 'Engineering');
  ids.child = await createGroup(w.h, 'Lab', ids.parent);
  const made = await w.h.api('POST', '/api/v1/profiles', {
    groupId: ids.parent,
    assignmentType: 'optional',
    mobileconfig: encodePlist(VPN, { format: 'xml' }).toString('base64'),
  });
  expect(made.status).toBe(201);
  ids.profile = made.body.profile.id as string;
  ids.policy = await policyApi.create(w.h, 'engineering', ids.parent);
  // Users need an effective policy before their link exists (409 otherwise).
  const basic = await policyApi.create(w.h, 'basic', 'global');
  const owner = await createUser(w.h, {
    ...{ username: 'mallory', email: 'm@example.com', policy: basic },
  });
  device = await enrollFor(w, owner, XSS);
  const opened = await openPage(w);
  page = opened.page;
  page.on('dialog', (d) => dialogs.push(d.message()));
  await consoleSignIn(w, page);
}, 120_000);

afterAll(async () => {
  await w.close();
});

/** Picks `value` for field `name` in `form`, whether it is a select or radio buttons. */
async function choose(form: Locator, name: string, value: string): Promise<void> {
  const select = form.locator(`select[name="${name}"]`);
  if ((await select.count()) > 0) await select.selectOption(value);
  else await form.locator(`input[name="${name}"][value="${value}"]`).check();
}

/** Submits `form` and waits for the page it leads to (303 after POST). */
async function submitForm(form: Locator): Promise<void> {
  await clickAndLoad(page, form.locator('button[type="submit"], button:not([type])').first());
}

const settingsForm = (groupId: string) =>
  page.locator(`form[action$="/console/groups/${groupId}/settings/profile-options"]`);

describe('groups, settings and policies', () => {
  test('A13 ok/Profile Options set to Override, Interactive on, children Inherit only', async () => {
    await page.goto(`/console/groups/${ids.parent ?? ''}/settings/profile-options`);
    const form = settingsForm(ids.parent ?? '');
    await choose(form, 'currentSetting', 'override');
    await choose(form, 'childPermission', 'inherit-only');
    await form.locator('input[name="interactiveEnabled"]').check();
    await submitForm(form);
    const stored = await w.h.api(
      'GET',
      `/api/v1/groups/${ids.parent ?? ''}/settings/profile-options`,
    );
    expect(stored.body).toMatchObject({
      currentSetting: 'override',
      childPermission: 'inherit-only',
      values: { interactiveEnabled: true },
    });
  }, 60_000);

  test('ok/a profile is assigned to a policy as Interactive', async () => {
    await page.goto(`/console/policies/${ids.policy ?? ''}`);
    const form = page.locator('form:has([name="assignmentType"])').first();
    await choose(form, 'profileId', ids.profile ?? '');
    await choose(form, 'assignmentType', 'interactive');
    await submitForm(form);
    const policy = await w.h.api('GET', `/api/v1/policies/${ids.policy ?? ''}/profiles`);
    expect(JSON.stringify(policy.body)).toMatch(/"assignmentType":"interactive"/);
    await expect(page.locator('main').innerText()).resolves.toMatch(/interactive/i);
  }, 60_000);

  test('A6 fail/a child of an Inherit-only group is locked and says by whom', async () => {
    await page.goto(`/console/groups/${ids.child ?? ''}/settings/profile-options`);
    const text = await page.locator('main').innerText();
    expect(text).toMatch(/lock/i);
    expect(text).toContain('Engineering');
    await expect(settingsForm(ids.child ?? '').count()).resolves.toBe(0);
    // A post with this session's valid CSRF token (taken from the sign-out form) is refused too.
    const csrf = await page.locator('input[name="_csrf"]').first().getAttribute('value');
    const forced = await page.request.post(
      `/console/groups/${ids.child ?? ''}/settings/profile-options`,
      {
        form: { _csrf: csrf ?? '', currentSetting: 'override', childPermission: 'inherit-only' },
        maxRedirects: 0,
      },
    );
    expect(forced.status()).toBeGreaterThanOrEqual(400);
    expect(await forced.text()).toMatch(/locked/i);
    const stored = await w.h.api(
      'GET',
      `/api/v1/groups/${ids.child ?? ''}/settings/profile-options`,
    );
    expect(stored.body).toMatchObject({ currentSetting: 'inherit' });
  }, 60_000);
});

const CSV = [
  'username,email,first_name,last_name,policy',
  'alice,alice@example.com,Alice,Liddell,basic',
  'carol,not-an-address,Carol,,basic',
].join('\r\n');

describe('users', () => {
  test('ok/a CSV import shows the per-row report', async () => {
    await page.goto('/console/users/import');
    await page.locator('input[name="csv"]').setInputFiles({
      name: 'users.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${CSV}\r\n`),
    });
    await submitForm(page.locator('form:has(input[name="csv"])'));
    const rows = await page.locator('main tr').allInnerTexts();
    expect(rows.find((r) => r.includes('alice'))).toMatch(/created/i);
    expect(rows.find((r) => r.includes('carol'))).toMatch(/refused/i);
    expect(rows.find((r) => r.includes('carol'))).toMatch(/e-?mail/i);
  }, 60_000);

  test("ok/a user's page shows the QR code of their link", async () => {
    const list = await w.h.api('GET', '/api/v1/users?limit=100');
    const alice = (list.body.items as { id: string; username: string }[]).find(
      (u) => u.username === 'alice',
    );
    const link = await w.h.api('GET', `/api/v1/users/${alice?.id ?? ''}/enrollment-link`);
    await page.goto(`/console/users/${alice?.id ?? ''}`);
    await expect(page.locator('main').innerText()).resolves.toContain(link.body.url as string);
    const qr = page.locator('img[src^="data:image/svg+xml;base64,"]').first();
    await qr.scrollIntoViewIfNeeded();
    expect(decodeQrPng(await qr.screenshot())).toBe(link.body.url);
  }, 60_000);
});

describe('escaping', () => {
  test('XSS ok/a device named <script>alert(1)</script> shows as text and runs nothing', async () => {
    for (const path of ['/console/devices', `/console/devices/${device.enrollmentId}`]) {
      await page.goto(path);
      await expect(page.getByText(XSS).first().isVisible()).resolves.toBe(true);
      const scripts = await page
        .locator('script')
        .evaluateAll((all) =>
          all.map((s) => `${s.getAttribute('src') ?? ''}${s.textContent ?? ''}`),
        );
      expect(scripts.filter((s) => s.includes('alert'))).toEqual([]);
      expect(await page.content()).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    expect(dialogs).toEqual([]);
  }, 60_000);
});
