/**
 * `npm run screenshots` (jest, this file only): the main pages of both UIs at 1280x800 in headless chromium, written
 * to `docs/screenshots/` for the README. A daemon with a small realistic fleet (a policy of an
 * Auto, an Optional and an Interactive profile; users with iPhones and a Mac, one profile
 * installed from the portal) is started in this process, as the browser tests do.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '@jest/globals';
import type { Page } from 'playwright-core';
import { encodePlist, type PlistDict } from '../../src/index.js';
import { createSimDevice, type SimDeviceHandle } from '../../src/sim/index.js';
import {
  clickAndLoad,
  consoleSignIn,
  createUser,
  enrollFor,
  must,
  openPage,
  setPasswordThroughMail,
  startWorld,
  type World,
} from './support.js';

const OUT = join(process.cwd(), 'docs', 'screenshots');
const VIEWPORT = { width: 1280, height: 800 };

function profile(identifier: string, name: string, type: string, keys: PlistDict): PlistDict {
  const uuid = () => randomUUID().toUpperCase();
  return {
    ...{ PayloadType: 'Configuration', PayloadVersion: 1, PayloadIdentifier: identifier },
    ...{ PayloadUUID: uuid(), PayloadDisplayName: name },
    PayloadContent: [
      {
        PayloadType: type,
        PayloadVersion: 1,
        PayloadIdentifier: `${identifier}.p`,
        PayloadUUID: uuid(),
        ...keys,
      },
    ],
  };
}

const PROFILES = [
  [
    'auto',
    profile('com.example.wifi', 'Office Wi-Fi', 'com.apple.wifi.managed', {
      SSID_STR: 'Office',
      AutoJoin: true,
      EncryptionType: 'None',
    }),
  ],
  [
    'optional',
    profile('com.example.font', 'Corporate font', 'com.apple.font', {
      Font: new Uint8Array([0, 1, 0, 0]),
    }),
  ],
  [
    'interactive',
    profile('com.example.passcode', 'Passcode policy', 'com.apple.mobiledevice.passwordpolicy', {
      allowSimple: false,
    }),
  ],
] as const;

/** Interactive allowed at the root, a policy of three profiles; its id and the profile ids. */
async function seedPolicy(w: World): Promise<{ policy: string; ids: string[] }> {
  const options = await w.h.api('PUT', '/api/v1/groups/global/settings/profile-options', {
    currentSetting: 'override',
    values: { interactiveEnabled: true },
  });
  must(options.status === 200, `profile options: ${options.status}`);
  const made = await w.h.api('POST', '/api/v1/policies', { name: 'Standard', groupId: 'global' });
  must(made.status === 201, `policy: ${made.status}`);
  const policy = made.body.id as string;
  const ids: string[] = [];
  for (const [assignmentType, content] of PROFILES) {
    const res = await w.h.api('POST', '/api/v1/profiles', {
      groupId: 'global',
      assignmentType,
      mobileconfig: encodePlist(content, { format: 'xml' }).toString('base64'),
    });
    must(res.status === 201, `profile: ${res.status} ${JSON.stringify(res.body)}`);
    ids.push(res.body.profile.id as string);
    const put = await w.h.api('PUT', `/api/v1/policies/${policy}/profiles/${ids.at(-1) ?? ''}`, {});
    must(put.status === 200 || put.status === 201, `assign: ${put.status}`);
  }
  return { policy, ids };
}

async function shoot(page: Page, path: string, file: string): Promise<void> {
  await page.goto(path);
  await page.screenshot({ path: join(OUT, file) });
  console.log(`docs/screenshots/${file}`);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const w = await startWorld();
  try {
    const { policy } = await seedPolicy(w);
    const people = [
      ['alice', 'Alice Liddell', "Alice's iPhone"],
      ['bob', 'Bob Builder', "Bob's iPhone"],
      ['carol', 'Carol Danvers', "Carol's iPhone"],
    ] as const;
    const users: string[] = [];
    const sims: SimDeviceHandle[] = [];
    for (const [username, , device] of people) {
      const id = await createUser(w.h, { username, email: `${username}@example.com`, policy });
      users.push(id);
      const sim = await enrollFor(w, id, device);
      sims.push(sim);
      await sim.connect();
    }
    const mac = createSimDevice({
      platform: 'macOS',
      osVersion: '15.2',
      keys: w.keys,
      deviceName: 'Design Mac',
    });
    const link = await w.h.api('GET', `/api/v1/users/${users[1] ?? ''}/enrollment-link`);
    await mac.enroll({ url: link.body.url as string });
    await mac.connect();

    const portal = await openPage(w);
    await portal.page.setViewportSize(VIEWPORT);
    await shoot(portal.page, '/portal/sign-in', 'portal-sign-in.png');
    await setPasswordThroughMail(w, portal.page, users[0] ?? '');
    const alice = sims[0] as SimDeviceHandle;
    await portal.page.goto(`/portal/devices/${alice.enrollmentId}`);
    // The Interactive passcode policy, installed from the portal and acknowledged by the device.
    await clickAndLoad(
      portal.page,
      portal.page
        .getByTestId('profile-com.example.passcode')
        .getByRole('button', { name: /install/i }),
    );
    for (let i = 0; i < 3; i++) await alice.connect();
    await shoot(portal.page, `/portal/devices/${alice.enrollmentId}`, 'portal-device.png');

    const admin = await openPage(w);
    await admin.page.setViewportSize(VIEWPORT);
    await consoleSignIn(w, admin.page);
    await shoot(admin.page, '/console/devices', 'console-devices.png');
    await shoot(
      admin.page,
      '/console/groups/global/settings/profile-options',
      'console-settings.png',
    );
    await admin.page.goto('/console/users/import');
    const csv =
      'username,email,first_name,last_name\r\ndave,dave@example.com,Dave,Lister\r\nerin,erin@example.com,Erin,Hunt\r\nfrank,not-an-address,Frank,\r\n';
    await admin.page
      .locator('input[name="csv"]')
      .setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await clickAndLoad(
      admin.page,
      admin.page.locator('form:has(input[name="csv"]) button').first(),
    );
    await admin.page.screenshot({ path: join(OUT, 'console-users-import.png') });
    console.log('docs/screenshots/console-users-import.png');
  } finally {
    await w.close();
  }
}

// Run by jest (`npm run screenshots` names this file): the daemon harness imports jest helpers.
test('screenshots of the portal and the console', main, 180_000);
