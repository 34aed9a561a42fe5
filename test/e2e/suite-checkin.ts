/**
 * The check-in part of the end-to-end suite: bootstrap tokens, UserAuthenticate,
 * DeclarativeManagement, GetToken and check-ins newer than our schema.
 */
import { expect, test } from '@jest/globals';
import type { DeviceEmulator } from '../support/device-emulator.js';
import type { Harness } from './harness.js';

async function enrolled(h: Harness): Promise<DeviceEmulator> {
  const dev = await h.device();
  await dev.enroll();
  return dev;
}

/** Registers the check-in tests; `harness` is read when each test runs. */
export function runCheckinSuite(harness: () => Harness): void {
  test('ok/bootstrap token escrowed sealed, handed back only to its device', async () => {
    const h = harness();
    const [dev, other] = [await enrolled(h), await enrolled(h)];
    const secret = Buffer.from('bootstrap-token-secret');
    expect((await dev.checkin('SetBootstrapToken', { BootstrapToken: secret })).status).toBe(200);
    const sealed = await h.storage.findBootstrapToken(dev.enrollmentId);
    expect(sealed).toBeDefined();
    expect(Buffer.from(sealed ?? []).includes(secret)).toBe(false);
    const mine = await dev.checkin('GetBootstrapToken');
    expect(Buffer.from(mine.plist?.BootstrapToken as Uint8Array).toString()).toBe(
      'bootstrap-token-secret',
    );
    const theirs = await other.checkin('GetBootstrapToken');
    expect(theirs.status).toBe(200);
    expect(theirs.plist).toEqual({});
    expect((await dev.checkin('SetBootstrapToken', {})).status).toBe(200);
    expect(await h.storage.findBootstrapToken(dev.enrollmentId)).toBeUndefined();
  });

  test('ok/UserAuthenticate default: empty challenge, then empty AuthToken', async () => {
    const h = harness();
    const user = (await enrolled(h)).user('macos');
    const first = await user.checkin('UserAuthenticate');
    expect(first.plist).toEqual({ DigestChallenge: '' });
    const second = await user.checkin('UserAuthenticate', { DigestResponse: 'x' });
    expect(second.plist).toEqual({ AuthToken: '' });
  });

  test.each([
    [
      'tokens',
      (b: Record<string, unknown>) => {
        expect(b).toHaveProperty('SyncTokens.DeclarationsToken');
      },
    ],
    [
      'declaration-items',
      (b: Record<string, unknown>) => {
        expect(b).toHaveProperty('Declarations.Configurations', []);
      },
    ],
  ])('ok/DeclarativeManagement %s answers JSON', async (endpoint, check) => {
    const dev = await enrolled(harness());
    const res = await dev.checkin('DeclarativeManagement', { Endpoint: endpoint });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json');
    check(JSON.parse(res.body.toString()) as Record<string, unknown>);
  });

  test.each([
    ['declaration/configuration/../../etc', 400, 'ERR_ENDPOINT'],
    ['http://evil.example/x', 400, 'ERR_ENDPOINT'],
    ['declaration/configuration/com.example.missing', 404, 'ERR_NOT_FOUND'],
  ])('fail/DeclarativeManagement endpoint %s', async (endpoint, status, code) => {
    const dev = await enrolled(harness());
    const res = await dev.checkin('DeclarativeManagement', { Endpoint: endpoint });
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code });
  });

  test('fail/GetToken without a token service answers 404', async () => {
    const dev = await enrolled(harness());
    const res = await dev.checkin('GetToken', { TokenServiceType: 'com.apple.maid' });
    expect(res.status).toBe(404);
  });

  test('ok/check-in newer than our schema is accepted with an empty answer', async () => {
    const dev = await enrolled(harness());
    const res = await dev.checkin('ReturnToService', { Topic: dev.options.topic });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
  });
}
