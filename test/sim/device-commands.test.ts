/**
 * The simulated device's command answers without a server: each responder, injected NotNow and
 * Error, unknown request types, encrypted and tampered profiles; the session loop's protocol
 * errors; and the key pool's file round trip.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  createTransientCertificate,
  encodePlist,
  encryptProfile,
  type PlistDict,
} from '../../src/index.js';
import {
  answerCommand,
  createKeyPool,
  loadKeyPool,
  type SimCommandContext,
  type SimPlatform,
} from '../../src/sim/index.js';
import { createProfileStore } from '../../src/sim/profiles.js';
import { runSession } from '../../src/sim/session.js';

let key: KeyObject;

beforeAll(async () => {
  key = (await createKeyPool(1)).take();
}, 30_000);

function context(platform: SimPlatform = 'iOS'): SimCommandContext {
  const certificate = createTransientCertificate(key, 'CN=sim device');
  return {
    platform,
    osVersion: platform === 'macOS' ? '15.1' : '18.1',
    userEnrollment: false,
    supervised: false,
    udid: 'UDID-1',
    serialNumber: 'SERIAL1',
    deviceName: 'Test device',
    profiles: createProfileStore(() => ({ platform, supervised: false, enrollment: 'device' })),
    identity: () => ({ certificate, privateKey: key }),
    certificates: () => [certificate],
    renewIdentity: () => Promise.resolve(),
    unenroll: () => Promise.resolve(),
  };
}

const PROFILE: PlistDict = {
  PayloadType: 'Configuration',
  PayloadVersion: 1,
  PayloadIdentifier: 'com.example.wifi',
  PayloadUUID: '0D7E5F62-3C1B-4B8A-9E51-0A7C2A8B9C01',
  PayloadContent: [
    {
      PayloadType: 'com.apple.wifi.managed',
      PayloadVersion: 1,
      PayloadIdentifier: 'com.example.wifi.one',
      PayloadUUID: '0D7E5F62-3C1B-4B8A-9E51-0A7C2A8B9C02',
      SSID_STR: 'Office',
    },
  ],
};

describe('answerCommand', () => {
  test.each([
    ['iOS', 'BatteryLevel', true],
    ['iOS', 'IMEI', true],
    ['iPadOS', 'IMEI', false],
    ['macOS', 'BatteryLevel', false],
    ['macOS', 'IsAppleSilicon', true],
  ] as const)('ok/DeviceInformation on %s answers %s: %s', async (platform, query, present) => {
    const answer = await answerCommand(
      { RequestType: 'DeviceInformation', Queries: [query, 'UDID'] },
      context(platform),
    );
    expect(answer.status).toBe('Acknowledged');
    const responses = answer.fields?.QueryResponses as PlistDict;
    expect(responses.UDID).toBe('UDID-1');
    expect(query in responses).toBe(present);
  });

  test.each(['SecurityInfo', 'CertificateList', 'InstalledApplicationList', 'ProfileList'])(
    'ok/%s is acknowledged with its response key',
    async (type) => {
      const answer = await answerCommand({ RequestType: type }, context());
      expect(answer.status).toBe('Acknowledged');
      expect(Object.keys(answer.fields ?? {})).toEqual([type]);
    },
  );

  test('ok/NotNow and Error at their rates', async () => {
    const always = { random: () => 0 };
    const notNow = await answerCommand({ RequestType: 'ProfileList' }, context(), {
      ...always,
      notNowRate: 0.5,
    });
    expect(notNow.status).toBe('NotNow');
    const error = await answerCommand({ RequestType: 'ProfileList' }, context(), {
      ...always,
      errorRate: 0.5,
    });
    expect(error.status).toBe('Error');
    expect(error.fields?.ErrorChain).toHaveLength(1);
  });

  test('fail/an unknown request type is answered Error with an ErrorChain', async () => {
    const answer = await answerCommand({ RequestType: 'Teleport' }, context());
    expect(answer.status).toBe('Error');
    expect(JSON.stringify(answer.fields)).toContain('Teleport');
  });

  test('ok/a responder passed in answers a RequestType the simulator does not know', async () => {
    const answer = await answerCommand(
      { RequestType: 'DeviceLock' },
      context(),
      {},
      {
        DeviceLock: () => ({ status: 'Acknowledged', fields: { MessageResult: 'locked' } }),
      },
    );
    expect(answer).toEqual({ status: 'Acknowledged', fields: { MessageResult: 'locked' } });
  });

  test('ok/an encrypted profile is decrypted with the identity key and listed', async () => {
    const ctx = context();
    const encrypted = encryptProfile(PROFILE, { recipient: ctx.identity().certificate });
    const payload = new Uint8Array(encodePlist(encrypted, { format: 'xml' }));
    const answer = await answerCommand({ RequestType: 'InstallProfile', Payload: payload }, ctx);
    expect(answer.status).toBe('Acknowledged');
    expect(ctx.profiles.find('com.example.wifi')?.profile.PayloadContent).toHaveLength(1);
    const list = await answerCommand({ RequestType: 'ProfileList' }, ctx);
    expect(JSON.stringify(list.fields)).toContain('com.apple.wifi.managed');
  });

  test.each([
    ['fail/a tampered signed profile', new Uint8Array([0x30, 0x82, 0x01, 0x00, 1, 2, 3]), 'Error'],
    ['fail/no Payload', undefined, 'CommandFormatError'],
  ])('%s is not installed', async (_name, payload, status) => {
    const ctx = context();
    const command: PlistDict = { RequestType: 'InstallProfile' };
    if (payload !== undefined) command.Payload = payload;
    expect((await answerCommand(command, ctx)).status).toBe(status);
    expect(ctx.profiles.list()).toEqual([]);
  });

  test('fail/removing an absent profile is an Error', async () => {
    const answer = await answerCommand(
      { RequestType: 'RemoveProfile', Identifier: 'com.example.none' },
      context(),
    );
    expect(answer.status).toBe('Error');
  });
});

describe('runSession', () => {
  test.each([
    ['a 500 answer', { status: 500, body: undefined, latencyMs: 1 }, /answered 500/],
    [
      'an undecodable body',
      { status: 200, body: undefined, latencyMs: 1, undecodable: true },
      /undecodable/,
    ],
    [
      'a command without its uuid',
      { status: 200, body: { Command: {} }, latencyMs: 1 },
      /CommandUUID/,
    ],
  ])('fail/%s is a protocol error', async (_name, exchange, pattern) => {
    const result = await runSession({
      send: () => Promise.resolve(exchange),
      answer: () => Promise.resolve({ status: 'Acknowledged' }),
    });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(pattern);
  });
});

describe('key pools', () => {
  test('ok/a saved pool loads back and cycles through its keys', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'orchard-sim-keys-')), 'keys.pem');
    const pool = await loadKeyPool(path, 2);
    expect(pool.size).toBe(2);
    const again = await loadKeyPool(path);
    expect(again.size).toBe(2);
    const first = again.take().export({ format: 'pem', type: 'pkcs8' });
    again.take();
    expect(again.take().export({ format: 'pem', type: 'pkcs8' })).toEqual(first);
    expect(pool.take().export({ format: 'pem', type: 'pkcs8' })).toEqual(first);
  }, 30_000);

  test('fail/an empty pool is misuse', async () => {
    await expect(createKeyPool(0)).rejects.toThrow(TypeError);
  });
});
