/**
 * The simulator's APNs endpoint, pushed to by Orchard's own APNs provider: 200 with an
 * `apns-id` for a registered token, 400 BadDeviceToken for an unknown one, 410 Unregistered
 * for a removed one, and the push handed to `onPush` with its PushMagic. Raw HTTP/2 requests
 * show the checks Orchard's client never fails: topic of the certificate, payload shape.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http2 from 'node:http2';
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

/** One raw request with the push identity of `topic` as client certificate. */
async function raw(
  headers: http2.OutgoingHttpHeaders,
  body: string,
): Promise<{ status: number; reason: string | undefined }> {
  const identity = await apns.issuePushIdentity(topic);
  const client = http2.connect(apns.url, {
    ca: apns.caPem,
    cert: identity.certPem,
    key: identity.keyPem,
  });
  try {
    return await new Promise((resolve, reject) => {
      const req = client.request({ ':method': 'POST', ...headers });
      let status = 0;
      let text = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        resolve({ status, reason: text === '' ? undefined : JSON.parse(text).reason });
      });
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    client.close();
  }
}

describe("sim APNs endpoint: Apple's checks", () => {
  const t = token();
  beforeAll(() => {
    apns.register(t);
  });

  test.each<[string, http2.OutgoingHttpHeaders, string, number, string | undefined]>([
    ['ok/a valid push', { 'apns-topic': topic }, '{"mdm":"m"}', 200, undefined],
    [
      'fail/another topic',
      { 'apns-topic': 'com.apple.mgmt.External.x' },
      '{"mdm":"m"}',
      400,
      'TopicDisallowed',
    ],
    ['fail/no topic', {}, '{"mdm":"m"}', 400, 'MissingTopic'],
    [
      'fail/an alert push type',
      { 'apns-topic': topic, 'apns-push-type': 'alert' },
      '{"mdm":"m"}',
      400,
      'InvalidPushType',
    ],
    ['fail/an extra key', { 'apns-topic': topic }, '{"mdm":"m","aps":{}}', 400, 'BadPayload'],
    ['fail/an empty body', { 'apns-topic': topic }, '', 400, 'PayloadEmpty'],
  ])('%s', async (_name, headers, body, status, reason) => {
    const answer = await raw({ ':path': `/3/device/${t}`, ...headers }, body);
    expect(answer).toEqual({ status, reason });
  });
});
