/**
 * Rate limits (docs/security.md, resource exhaustion; security review issue 12 item 8): token
 * buckets per client address on enrollment links, SCEP PKIOperation and failed admin logins
 * answer 429 `ERR_RATE_LIMITED` with `Retry-After`; failed logins also have a global ceiling.
 * A request with a valid API key is never refused because others failed, and device MDM routes
 * are never limited.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { DeviceEmulator } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';
import { requestFrom } from './peer.js';

describe('rate limits in the daemon', () => {
  let h: Harness;
  let device: DeviceEmulator;
  beforeAll(async () => {
    h = await startHarness({ rateLimit: '3/min' });
    // Its link fetch and SCEP request come from an address of its own: the tests count 127.0.0.1's.
    device = await h.device({ from: '127.0.0.9' });
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });

  function expect429(res: { status: number; body: string; headers: Record<string, unknown> }) {
    expect(res.status).toBe(429);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }

  test('fail/the fourth enrollment link fetch in a minute is 429', async () => {
    for (let i = 0; i < 3; i++) expect((await h.raw('GET', `/enroll/nope${i}`)).status).toBe(404);
    expect429(await h.raw('GET', '/enroll/nope'));
  });

  test('fail/the fourth SCEP PKIOperation is 429; GetCACaps is not limited', async () => {
    const post = () =>
      h.raw(
        'POST',
        '/scep?operation=PKIOperation',
        { 'content-type': 'application/x-pki-message' },
        Buffer.from('not cms'),
      );
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(400);
    expect429(await post());
    for (let i = 0; i < 5; i++)
      expect((await h.raw('GET', '/scep?operation=GetCACaps')).status).toBe(200);
  });

  test('ok/after three failed logins from the address, a valid key from it still works', async () => {
    for (let i = 0; i < 5; i++)
      expect((await h.api('GET', '/api/v1/enrollments')).status).toBe(200);
    for (const key of [null, 'wrong-key-1', 'wrong-key-2'])
      expect((await h.api('GET', '/api/v1/enrollments', undefined, key)).status).toBe(403);
    for (let i = 0; i < 5; i++)
      expect((await h.api('GET', '/api/v1/enrollments')).status).toBe(200);
  });

  test('fail/after three failed logins from the address, an invalid or missing key gets 429', async () => {
    expect429(await h.raw('GET', '/api/v1/enrollments', { authorization: 'Bearer wrong-3' }));
    expect429(await h.raw('GET', '/api/v1/enrollments'));
  });

  test('ok/a valid read key refused for a write is no failed login', async () => {
    const created = await h.api('POST', '/api/v1/api-keys', { name: 'reader', scope: 'read' });
    expect(created.status).toBe(201);
    const reader = (created.body as { key: string }).key;
    // From an address of its own, so earlier failures do not count.
    const from = (headers: Record<string, string>, method = 'POST') =>
      requestFrom(h.daemon.url, '127.0.0.3', method, '/api/v1/enrollments/x/push', headers);
    for (let i = 0; i < 4; i++)
      expect((await from({ authorization: `Bearer ${reader}` })).status).toBe(403);
    expect((await from({}, 'GET')).status).not.toBe(429);
  });

  test('ok/device MDM routes are never rate limited', async () => {
    for (let i = 0; i < 8; i++) expect((await device.idle()).status).toBe(200);
  });
});

describe('rate limits behind a trusted proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ rateLimit: '3/min', trustedProxy: '127.0.0.2' });
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });

  const fromProxy = (client: string, key?: string) =>
    requestFrom(h.daemon.url, '127.0.0.2', 'GET', '/api/v1/enrollments', {
      'x-forwarded-for': client,
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    });

  test('fail/the global ceiling trips with rotating X-Forwarded-For from a trusted proxy', async () => {
    // 3/min per address, 30/min in total: thirty addresses fail once each.
    for (let i = 1; i <= 30; i++)
      expect((await fromProxy(`198.51.100.${i}`, 'wrong')).status).toBe(403);
    const refused = await fromProxy('198.51.100.200', 'wrong');
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect((await fromProxy('198.51.100.201')).status).toBe(429);
    expect((await fromProxy('198.51.100.202', h.apiKey)).status).toBe(200);
    expect((await fromProxy('198.51.100.1', h.apiKey)).status).toBe(200);
  });
});
