/**
 * Issue 19's portal proof in headless chromium against a daemon on 127.0.0.1 (SQLite): a user
 * sets a password through the invitation mail, sees their one device, presses Install on an
 * Interactive profile, the simulated device receives InstallProfile and acknowledges, and the
 * page shows it installed; another user gets a 403 page for that device (the same as for an id
 * that does not exist, M13); a form post without the CSRF token is refused; a device named
 * `<script>alert(1)</script>` shows as text and runs nothing. The steps build on each other.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Page } from 'playwright-core';
import type { SimDeviceHandle } from '../../src/sim/index.js';
import {
  identifierOf,
  policyApi,
  uploadProfiles,
  type ProfileRole,
} from '../e2e/policies-support.js';
import {
  clickAndLoad,
  commandTypes,
  createUser,
  enrollFor,
  openPage,
  portalSignIn,
  setPasswordThroughMail,
  settleOnPage,
  startWorld,
  type World,
} from './support.js';

const XSS = '<script>alert(1)</script>';
const PASSCODE = identifierOf('passcode');

let w: World;
const state: {
  profiles?: Record<ProfileRole, string>;
  alice?: string;
  bob?: string;
  aliceDevice?: SimDeviceHandle;
  bobDevice?: SimDeviceHandle;
  alicePage?: Page;
  bobPage?: Page;
  dialogs: string[];
} = { dialogs: [] };

beforeAll(async () => {
  w = await startWorld();
  const page = await w.h.api('PUT', '/api/v1/groups/global/settings/profile-options', {
    currentSetting: 'override',
    values: { interactiveEnabled: true },
  });
  expect(page.status).toBe(200);
  state.profiles = await uploadProfiles(w.h, 'global');
  const policy = await policyApi.create(w.h, 'standard', 'global');
  for (const role of ['wifi', 'font', 'passcode'] as const)
    await policyApi.assign(w.h, policy, state.profiles[role]);
  state.alice = await createUser(w.h, { username: 'alice', email: 'alice@example.com', policy });
  state.bob = await createUser(w.h, { username: 'bob', email: 'bob@example.com', policy });
  state.aliceDevice = await enrollFor(w, state.alice, "Alice's iPhone");
  state.bobDevice = await enrollFor(w, state.bob, XSS);
}, 120_000);

afterAll(async () => {
  await w.close();
});

/** The `data-state` of a profile row on the device page. */
const profileState = (page: Page, identifier: string) =>
  page.getByTestId(`profile-${identifier}`).getAttribute('data-state');

describe('the portal in a browser', () => {
  test('ok/a user sets a password from the invitation mail, signs in and sees one device', async () => {
    const setup = await openPage(w);
    await setPasswordThroughMail(w, setup.page, state.alice ?? '');
    await setup.context.close();
    const { page } = await openPage(w);
    state.alicePage = page;
    page.on('dialog', (d) => state.dialogs.push(d.message()));
    await portalSignIn(page, 'alice');
    const id = state.aliceDevice?.enrollmentId ?? '';
    await expect(page.locator('[data-testid^="device-"]').count()).resolves.toBe(1);
    await expect(page.getByTestId(`device-${id}`).innerText()).resolves.toContain("Alice's iPhone");
  }, 60_000);

  test('ok/Install on an Interactive profile reaches the device and shows installed', async () => {
    const page = state.alicePage as Page;
    const device = state.aliceDevice as SimDeviceHandle;
    await page.goto(`/portal/devices/${encodeURIComponent(device.enrollmentId)}`);
    await expect(profileState(page, PASSCODE)).resolves.toBe('offered');
    const row = page.getByTestId(`profile-${PASSCODE}`);
    await clickAndLoad(page, row.getByRole('button', { name: /install/i }));
    await expect(profileState(page, PASSCODE)).resolves.toMatch(/pending|installed/);
    expect(await commandTypes(w.h, device.enrollmentId)).toContain('InstallProfile');
    await settleOnPage(
      device,
      page,
      async () => (await profileState(page, PASSCODE)) === 'installed',
    );
    expect(device.installedProfiles().map((p) => p.identifier)).toContain(PASSCODE);
    await expect(page.getByTestId(`profile-${PASSCODE}`).innerText()).resolves.toMatch(/remove/i);
  }, 60_000);

  test('M13 fail/another user gets the same 403 page for her device as for no device', async () => {
    const { page } = await openPage(w);
    state.bobPage = page;
    page.on('dialog', (d) => state.dialogs.push(d.message()));
    await setPasswordThroughMail(w, page, state.bob ?? '');
    const theirs = await page.goto(`/portal/devices/${state.aliceDevice?.enrollmentId ?? ''}`);
    expect(theirs?.status()).toBe(403);
    const theirsText = await page.locator('main, body').first().innerText();
    expect(theirsText).not.toContain("Alice's iPhone");
    const none = await page.goto('/portal/devices/00000000-0000-4000-8000-000000000000');
    expect(none?.status()).toBe(403);
    const noneText = await page.locator('main, body').first().innerText();
    expect(noneText.replace(/[0-9A-F-]{36}/gi, '')).toBe(theirsText.replace(/[0-9A-F-]{36}/gi, ''));
  }, 60_000);

  test('fail/a form post without the CSRF token is refused and queues nothing', async () => {
    const page = state.bobPage as Page;
    const id = state.bobDevice?.enrollmentId ?? '';
    const before = await commandTypes(w.h, id);
    const forged = await page.request.post(
      `/portal/devices/${id}/profiles/${state.profiles?.passcode ?? ''}/install`,
      { form: { confirm: 'yes' }, maxRedirects: 0 },
    );
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toMatch(/csrf|form|token|expired/i);
    expect(await commandTypes(w.h, id)).toEqual(before);
  }, 30_000);

  test("M13 fail/a post with a valid token to another user's device is refused", async () => {
    const page = state.bobPage as Page;
    const theirs = state.aliceDevice?.enrollmentId ?? '';
    const before = await commandTypes(w.h, theirs);
    await page.goto('/portal/');
    const csrf = await page.locator('input[name="_csrf"]').first().getAttribute('value');
    expect(csrf).toBeTruthy();
    const res = await page.request.post(
      `/portal/devices/${theirs}/profiles/${state.profiles?.font ?? ''}/install`,
      { form: { _csrf: csrf ?? '' }, maxRedirects: 0 },
    );
    expect(res.status()).toBe(403);
    expect(await commandTypes(w.h, theirs)).toEqual(before);
  }, 30_000);

  test('XSS ok/a device named <script>alert(1)</script> shows as text and runs nothing', async () => {
    const page = state.bobPage as Page;
    const id = state.bobDevice?.enrollmentId ?? '';
    for (const path of ['/portal/', `/portal/devices/${id}`]) {
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
    expect(state.dialogs).toEqual([]);
  }, 30_000);
});
