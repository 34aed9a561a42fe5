/**
 * The profile library end to end on a running daemon: a profile uploaded through the admin API
 * and installed on a device enrolled over SCEP reaches the device as an InstallProfile whose
 * payload is signed by the daemon's profile-signing identity (chaining to its CA) and, when
 * asked, encrypted to the identity certificate Orchard's CA issued the device.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decryptProfile } from '../../../src/profile/encrypt.js';
import { verifyProfile } from '../../../src/profile/verify.js';
import type { PlistDict } from '../../../src/protocol/plist.js';
import { expectOk } from '../../support/device-emulator.js';
import { startHarness, type Harness } from '../../daemon/harness.js';
import { fixtureProfile, wifiXml } from '../../management/profile-fixtures.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h.close();
});

test('ok/upload, install, and the device receives the profile signed by the daemon', async () => {
  const device = await h.device();
  const created = await h.api('POST', '/api/v1/profiles', {
    groupId: 'global',
    mobileconfig: wifiXml().toString('base64'),
  });
  expect(created.status).toBe(201);
  const id = (created.body.profile as { id: string }).id;
  const queued = await h.api('POST', `/api/v1/profiles/${id}/install`, {
    enrollmentIds: [device.enrollmentId],
  });
  expect(queued.status).toBe(201);
  const { commandUuid } = (queued.body.commands as { commandUuid: string }[])[0]!;

  const res = await device.idle();
  expectOk(res, 'Idle');
  const got = res.plist as { CommandUUID: string; Command: PlistDict };
  expect([got.CommandUUID, got.Command.RequestType]).toEqual([commandUuid, 'InstallProfile']);
  const ca = readFileSync(join(h.dataDir, 'ca', 'ca.pem'));
  const verified = verifyProfile(got.Command.Payload as Uint8Array, { roots: [ca] });
  expect(verified.profile).toEqual(fixtureProfile('wifi'));
}, 60_000);

test('ok/encrypted to the identity Orchard issued the device (found by its bound serial)', async () => {
  const device = await h.device();
  const created = await h.api('POST', '/api/v1/profiles', {
    groupId: 'global',
    mobileconfig: wifiXml('com.example.orchard.encrypted').toString('base64'),
  });
  const id = (created.body.profile as { id: string }).id;
  const queued = await h.api('POST', `/api/v1/profiles/${id}/install`, {
    enrollmentIds: [device.enrollmentId],
    encrypt: true,
  });
  expect(queued.status).toBe(201);
  const res = await device.idle();
  expectOk(res, 'Idle');
  const got = res.plist as { Command: PlistDict };
  const verified = verifyProfile(got.Command.Payload as Uint8Array);
  expect(verified.profile.EncryptedPayloadContent).toBeInstanceOf(Uint8Array);
  const plain = decryptProfile(verified.profile, {
    privateKey: device.options.identity.privateKey,
  });
  expect(plain.PayloadContent).toEqual(fixtureProfile('wifi').PayloadContent);
}, 60_000);
