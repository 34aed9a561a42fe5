/**
 * The simulator's APNs endpoint, pushed to by Orchard's own APNs provider: 200 with an
 * `apns-id` for a registered token, 400 BadDeviceToken for an unknown one, 410 Unregistered
 * for a removed one, and the push handed to `onPush` with its PushMagic.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadPushCertificate } from '../../src/push/apns/certificate.js';
import { createApnsPushProvider, type ApnsPushProvider } from '../../src/push/apns/provider.js';
import { createSimApns, type SimApns } from '../../src/sim/apns.js';

const topic = `com.apple.mgmt.External.${randomUUID()}`;
const seen: { token: string; mdm: string; topic: string }[] = [];
let apns: SimApns;
let provider: ApnsPushProvider;

const target = (token: string, n: number) => ({
  enrollmentId: `e${n}`,
  token,
  pushMagic: `magic-${n}`,
  topic,
});
const token = (): string => randomBytes(32).toString('hex');

beforeAll(async () => {
  apns = await createSimApns({
    onPush: (t, payload, top) => seen.push({ token: t, mdm: payload.mdm, topic: top }),
  });
  const identity = await apns.issuePushIdentity(topic);
  provider = createApnsPushProvider(
    { certificate: loadPushCertificate(identity) },
    {
      url: apns.url,
      ca: apns.caPem,
      maxAttempts: 1,
      coalesceWindowMs: 0,
      expiryCheckIntervalMs: 0,
    },
  );
});

afterAll(async () => {
  await provider.close();
  await apns.close();
});

describe('sim APNs endpoint', () => {
  test('ok/a registered token answers 200 with an apns-id and reaches onPush', async () => {
    const t = token();
    apns.register(t);
    const [result] = await provider.push([target(t, 1)]);
    expect(result).toMatchObject({ outcome: 'sent', status: 200, apnsId: expect.any(String) });
    expect(seen).toContainEqual({ token: t, mdm: 'magic-1', topic });
    expect(apns.pushes).toBe(1);
  });

  test('fail/an unknown token answers 400 BadDeviceToken', async () => {
    const [result] = await provider.push([target(token(), 2)]);
    expect(result).toMatchObject({ outcome: 'bad-token', status: 400, reason: 'BadDeviceToken' });
    expect(apns.rejected.BadDeviceToken).toBe(1);
  });

  test('fail/an unregistered token answers 410 Unregistered', async () => {
    const t = token();
    apns.register(t);
    apns.unregister(t);
    const [result] = await provider.push([target(t, 3)]);
    expect(result).toMatchObject({ outcome: 'unregistered', status: 410, reason: 'Unregistered' });
    expect(apns.pushes).toBe(1);
  });
});
