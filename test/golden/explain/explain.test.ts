/**
 * Golden files of the explain trace (rule B1): `delivery.explain` over the delivery service's
 * test world (memory stores, real core, fixed clock and UUIDs) for one device and profile per
 * decision, compared byte for byte with `test/golden/explain/<case>.json`. User ids, the only
 * random values, are replaced by `usr_<username>`. `ORCHARD_UPDATE_GOLDEN=1` rewrites the files
 * (review the diff before committing it).
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { format } from 'prettier';
import type { ExplainTrace } from '../../../src/management/delivery/types.js';
import type { PolicyRecord, UserRecord } from '../../../src/storage/ports.js';
import {
  APPLE_TV,
  createHarness,
  IPHONE,
  type Harness,
} from '../../management/delivery-service-harness.js';

const UPDATE = process.env.ORCHARD_UPDATE_GOLDEN === '1';

/** A cellular payload: iOS and watchOS only. */
const CELLULAR = {
  ...{ PayloadType: 'com.apple.cellular', PayloadVersion: 1, PayloadIdentifier: 'com.example.apn' },
  ...{ PayloadUUID: '7A3C2E10-5B4D-4C6E-8F70-112233445566', AttachAPN: { Name: 'internet' } },
};

let h: Harness;
let policy: PolicyRecord;
let ann: UserRecord;

/** The trace as stable JSON: user ids named after their user. */
function stable(trace: ExplainTrace, users: readonly UserRecord[]): string {
  let text = JSON.stringify(trace, null, 2);
  for (const u of users) text = text.split(u.id).join(`usr_${u.username}`);
  return `${text}\n`;
}

/**
 * Compares `trace` with the golden file `name` (or writes it, formatted as the repository's
 * JSON is, under ORCHARD_UPDATE_GOLDEN=1): same JSON values, key order included.
 */
async function golden(
  name: string,
  trace: ExplainTrace,
  users: readonly UserRecord[] = [ann],
): Promise<void> {
  const file = new URL(`./${name}.json`, import.meta.url);
  const text = stable(trace, users);
  if (UPDATE) writeFileSync(file, await format(text, { parser: 'json' }));
  if (!existsSync(file)) throw new Error(`no ${name}.json: run with ORCHARD_UPDATE_GOLDEN=1`);
  const stored = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')), null, 2);
  expect(`${stored}\n`).toBe(text);
}

beforeEach(async () => {
  h = createHarness();
  await h.groups.writeSettings('global', 'profile-options', {
    currentSetting: 'override',
    values: { interactiveEnabled: true },
  });
  policy = await h.policy('phones');
  await h.admin.setGroupPolicy('global', policy.id);
  ann = await h.user('ann');
});

describe('B1 explain traces (golden files)', () => {
  test('ok/an Auto profile the device acknowledged: installed', async () => {
    const wifi = await h.profile('wifi-auto');
    await h.assign(policy, wifi, 'auto');
    await h.device('D1', ann);
    await h.enroll('D1');
    await h.connect('D1');
    await golden('installed-auto', await h.delivery.explain('D1', wifi.identifier));
  });

  test('ok/an Interactive profile: offered, never installed by Orchard', async () => {
    const wifi = await h.profile('wifi-interactive', { type: 'interactive' });
    await h.assign(policy, wifi, 'interactive');
    await h.device('D1', ann);
    await h.enroll('D1');
    await h.connect('D1');
    await golden('offered-interactive', await h.delivery.explain('D1', wifi.identifier));
  });

  test('ok/a profile the platform cannot take: skipped with its failing check', async () => {
    const cellular = await h.profile('cellular-auto', { extra: { PayloadContent: [CELLULAR] } });
    await h.assign(policy, cellular, 'auto');
    await h.device('TV1', ann, { facts: APPLE_TV });
    await h.enroll('TV1');
    await h.connect('TV1');
    await golden('skipped-platform', await h.delivery.explain('TV1', cellular.identifier));
  });

  test('ok/supervised-only restrictions on a device not supervised: skipped', async () => {
    const restrictions = await h.profile('restrictions-auto', { fixture: 'restrictions' });
    await h.assign(policy, restrictions, 'auto');
    await h.device('D1', ann, { supervised: false });
    await h.enroll('D1');
    await h.connect('D1');
    await golden('skipped-supervision', await h.delivery.explain('D1', restrictions.identifier));
  });

  test('ok/a variable the user has no value for: blocked', async () => {
    const wifi = await h.profile('wifi-custom', {
      extra: { PayloadDescription: 'for $USERNAME in $CUSTOM_1' },
    });
    await h.assign(policy, wifi, 'auto');
    await h.device('D1', ann);
    await h.enroll('D1');
    await h.connect('D1');
    await golden('blocked-variable', await h.delivery.explain('D1', wifi.identifier));
  });

  test('ok/removal never on a device not supervised: not honoured, said so', async () => {
    const wifi = await h.profile('wifi-locked');
    await h.assign(policy, wifi, 'auto', 'never');
    await h.device('D1', ann, { supervised: false });
    await h.enroll('D1');
    await h.connect('D1');
    await golden('removal-never-unsupervised', await h.delivery.explain('D1', wifi.identifier));
  });

  test("ok/the user's own policy below a group chain that overrides settings", async () => {
    const { group } = await h.groups.createGroup({ name: 'Sales', parentId: 'global' });
    await h.groups.writeSettings(group.id, 'profile-options', {
      currentSetting: 'override',
      values: { interactiveEnabled: false },
    });
    const own = await h.policy('sales-phones', group.id);
    const wifi = await h.profile('wifi-sales-optional', { type: 'optional' });
    await h.assign(own, wifi, 'optional');
    const bob = await h.user('bob', group.id, own);
    await h.device('D2', bob, { facts: { ...IPHONE, OSVersion: '18.1' } });
    await h.enroll('D2');
    await h.connect('D2');
    const trace = await h.delivery.explain('D2', wifi.identifier);
    await golden(
      'offered-optional-own-policy',
      JSON.parse(stable(trace, [bob]).split(group.id).join('og_sales')) as ExplainTrace,
      [bob],
    );
  });

  test('ok/a library profile the effective policy does not assign: not-assigned', async () => {
    const other = await h.profile('wifi-elsewhere');
    await h.device('D1', ann);
    await h.enroll('D1');
    await golden('not-assigned', await h.delivery.explain('D1', other.identifier));
  });

  test('fail/an identifier Orchard knows nothing of: 404 ERR_DEVICE_PROFILE_NOT_FOUND', async () => {
    await h.device('D1', ann);
    await h.enroll('D1');
    await expect(h.delivery.explain('D1', 'com.example.by-hand')).rejects.toMatchObject({
      code: 'ERR_DEVICE_PROFILE_NOT_FOUND',
    });
  });
});
