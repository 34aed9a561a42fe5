import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type { PushEvent } from '../../src/push/ports.js';
import type { MockReply } from '../support/apns-mock.js';
import { createPushHarness, targets, type PushHarness } from './harness.js';

let h: PushHarness;
beforeAll(async () => {
  h = await createPushHarness();
});
afterEach(async () => {
  await h.cleanup();
});
afterAll(async () => {
  await h.cleanup();
});

describe('APNs provider: sending', () => {
  test('ok/sends headers and body exactly as APNs expects', async () => {
    const mock = await h.mock();
    const provider = h.provider(mock, { expirationSeconds: 3600 });
    const [target] = targets(h.topic, 1);
    const results = await provider.push([target!]);
    expect(results).toEqual([
      { enrollmentId: 'e0', outcome: 'sent', status: 200, apnsId: expect.any(String) },
    ]);
    expect(mock.violations).toEqual([]);
    expect(mock.pushes).toHaveLength(1);
    expect(mock.pushes[0]).toMatchObject({
      token: target!.token,
      topic: h.topic,
      pushMagic: 'magic-0',
    });
    expect(mock.pushes[0]!.apnsId).toBe(results[0]!.apnsId);
  });

  test('ok/a PushMagic with quotes is JSON-escaped and still exactly {"mdm":...}', async () => {
    const mock = await h.mock();
    const provider = h.provider(mock);
    const target = { ...targets(h.topic, 1)[0]!, pushMagic: 'a"b\\c' };
    const [r] = await provider.push([target]);
    expect(r!.outcome).toBe('sent');
    expect(mock.violations).toEqual([]);
    expect(mock.pushes[0]!.pushMagic).toBe('a"b\\c');
  });

  // Each row: the mock's replies to successive attempts, the expected result and attempts seen.
  test.each<[string, MockReply[], Record<string, unknown>, number]>([
    ['ok/200 is sent', [{}], { outcome: 'sent', status: 200 }, 1],
    [
      'ok/410 is unregistered',
      [{ status: 410, reason: 'Unregistered' }],
      { outcome: 'unregistered', status: 410, reason: 'Unregistered' },
      1,
    ],
    [
      'ok/400 BadDeviceToken is bad-token',
      [{ status: 400, reason: 'BadDeviceToken' }],
      { outcome: 'bad-token', reason: 'BadDeviceToken' },
      1,
    ],
    [
      'ok/400 DeviceTokenNotForTopic is bad-token',
      [{ status: 400, reason: 'DeviceTokenNotForTopic' }],
      { outcome: 'bad-token', reason: 'DeviceTokenNotForTopic' },
      1,
    ],
    [
      'ok/400 BadTopic is rejected, not retried',
      [{ status: 400, reason: 'BadTopic' }],
      { outcome: 'rejected', status: 400 },
      1,
    ],
    [
      'ok/403 BadCertificate is rejected, not retried',
      [{ status: 403, reason: 'BadCertificate' }],
      { outcome: 'rejected', status: 403 },
      1,
    ],
    [
      'ok/429 is retried then sent',
      [{ status: 429, reason: 'TooManyRequests' }, {}],
      { outcome: 'sent', status: 200 },
      2,
    ],
    [
      'ok/500 then 503 are retried then sent',
      [{ status: 500 }, { status: 503, reason: 'ServiceUnavailable' }, {}],
      { outcome: 'sent' },
      3,
    ],
    [
      'fail/503 on every attempt fails after maxAttempts',
      [{ status: 503, reason: 'Shutdown' }],
      { outcome: 'failed', status: 503, reason: 'Shutdown' },
      3,
    ],
    ['ok/a slow answer within the timeout is sent', [{ delayMs: 150 }], { outcome: 'sent' }, 1],
    [
      'fail/no answer times out on every attempt',
      [{ hang: true }],
      { outcome: 'failed', reason: 'Timeout' },
      3,
    ],
  ])('%s', async (_name, replies, expected, attempts) => {
    const mock = await h.mock();
    mock.rule = (_push, i) => replies[Math.min(i, replies.length - 1)];
    const provider = h.provider(mock, { maxAttempts: 3, requestTimeoutMs: 300 });
    const [r] = await provider.push(targets(h.topic, 1));
    expect(r).toMatchObject({ enrollmentId: 'e0', ...expected });
    expect(mock.count).toBe(attempts);
  });

  test('ok/410 marks the token dead until a new TokenUpdate, and says so once', async () => {
    const mock = await h.mock();
    mock.rule = (_p, i) => (i === 0 ? { status: 410, reason: 'Unregistered' } : undefined);
    const events: PushEvent[] = [];
    const provider = h.provider(mock, { coalesceWindowMs: 0 }, { onEvent: (e) => events.push(e) });
    const [t] = targets(h.topic, 1);
    expect((await provider.push([t!]))[0]!.outcome).toBe('unregistered');
    expect((await provider.push([t!]))[0]).toMatchObject({
      outcome: 'dead',
      reason: 'Unregistered',
    });
    expect(mock.count).toBe(1);
    expect(events).toEqual([
      { type: 'token-unregistered', enrollmentId: 'e0', token: t!.token, topic: h.topic },
    ]);
    provider.markTokenUpdated(t!.token.toUpperCase());
    expect((await provider.push([t!]))[0]!.outcome).toBe('sent');
    expect(mock.count).toBe(2);
  });

  test('ok/a dead token with a new PushMagic (re-enrollment) is pushed again', async () => {
    const mock = await h.mock();
    mock.rule = (_p, i) => (i === 0 ? { status: 410, reason: 'Unregistered' } : undefined);
    const provider = h.provider(mock, { coalesceWindowMs: 0 });
    const [t] = targets(h.topic, 1);
    expect((await provider.push([t!]))[0]!.outcome).toBe('unregistered');
    expect((await provider.push([t!]))[0]!.outcome).toBe('dead');
    expect((await provider.push([{ ...t!, pushMagic: 'new-magic' }]))[0]!.outcome).toBe('sent');
    expect(mock.pushes.at(-1)!.pushMagic).toBe('new-magic');
  });

  test('ok/bad tokens raise token-rejected with the reason', async () => {
    const mock = await h.mock();
    mock.rule = () => ({ status: 400, reason: 'DeviceTokenNotForTopic' });
    const events: PushEvent[] = [];
    const provider = h.provider(mock, {}, { onEvent: (e) => events.push(e) });
    await provider.push(targets(h.topic, 1));
    expect(events).toEqual([
      expect.objectContaining({ type: 'token-rejected', reason: 'DeviceTokenNotForTopic' }),
    ]);
  });

  test.each<[string, Record<string, string>, Record<string, unknown>]>([
    [
      'fail/malformed token is bad-token without a request',
      { token: 'zz/../x' },
      { outcome: 'bad-token', reason: 'InvalidToken' },
    ],
    [
      'fail/odd-length token is bad-token',
      { token: 'abc'.repeat(11) },
      { outcome: 'bad-token', reason: 'InvalidToken' },
    ],
    [
      'fail/another topic is rejected',
      { topic: 'com.apple.mgmt.External.other' },
      { outcome: 'rejected', reason: 'TopicMismatch' },
    ],
    [
      'fail/empty PushMagic is rejected',
      { pushMagic: '' },
      { outcome: 'rejected', reason: 'MissingPushMagic' },
    ],
  ])('%s', async (_name, patch, expected) => {
    const mock = await h.mock();
    const provider = h.provider(mock);
    const [r] = await provider.push([{ ...targets(h.topic, 1)[0]!, ...patch }]);
    expect(r).toMatchObject(expected);
    expect(mock.count).toBe(0);
  });

  test('ok/results keep the order of the targets across mixed outcomes', async () => {
    const mock = await h.mock();
    mock.rule = (p) =>
      p.pushMagic === 'magic-3'
        ? { status: 410, reason: 'Unregistered' }
        : { delayMs: Number(p.pushMagic?.slice(6)) % 3 };
    const provider = h.provider(mock);
    const list = targets(h.topic, 6);
    const results = await provider.push(list);
    expect(results.map((r) => r.enrollmentId)).toEqual(list.map((t) => t.enrollmentId));
    expect(results.map((r) => r.outcome)).toEqual([
      'sent',
      'sent',
      'sent',
      'unregistered',
      'sent',
      'sent',
    ]);
  });

  test('ok/pushes to the same device within the window with one coalesceKey are coalesced', async () => {
    const mock = await h.mock();
    let clock = 1_700_000_000_000;
    const provider = h.provider(mock, { coalesceWindowMs: 1000 }, { now: () => clock });
    const t = { ...targets(h.topic, 1)[0]!, coalesceKey: 'command-a' };
    const first = await provider.push([t, t, t]);
    expect(first.map((r) => r.outcome).sort()).toEqual(['coalesced', 'coalesced', 'sent']);
    expect((await provider.push([t]))[0]!.outcome).toBe('coalesced');
    expect(mock.count).toBe(1);
    clock += 1000;
    expect((await provider.push([t]))[0]!.outcome).toBe('sent');
    expect(mock.count).toBe(2);
  });

  test('ok/a push with another coalesceKey goes out within the window (the device polled)', async () => {
    const mock = await h.mock();
    const provider = h.provider(mock, { coalesceWindowMs: 60_000 }, { now: () => 0 });
    const [t] = targets(h.topic, 1);
    expect((await provider.push([{ ...t!, coalesceKey: 'a' }]))[0]!.outcome).toBe('sent');
    expect((await provider.push([{ ...t!, coalesceKey: 'a' }]))[0]!.outcome).toBe('coalesced');
    expect((await provider.push([{ ...t!, coalesceKey: 'b' }]))[0]!.outcome).toBe('sent');
    expect((await provider.push([{ ...t!, coalesceKey: 'b' }]))[0]!.outcome).toBe('coalesced');
    expect(mock.count).toBe(2);
  });

  test('ok/without a coalesceKey only a push in flight is shared, none is remembered', async () => {
    const mock = await h.mock();
    const provider = h.provider(mock, { coalesceWindowMs: 60_000 }, { now: () => 0 });
    const [t] = targets(h.topic, 1);
    const burst = await provider.push([t!, t!]);
    expect(burst.map((r) => r.outcome).sort()).toEqual(['coalesced', 'sent']);
    expect((await provider.push([t!]))[0]!.outcome).toBe('sent');
    // A keyed push is not absorbed by an unkeyed one sent just before, nor the other way round.
    expect((await provider.push([{ ...t!, coalesceKey: 'a' }]))[0]!.outcome).toBe('sent');
    expect((await provider.push([t!]))[0]!.outcome).toBe('sent');
    expect(mock.count).toBe(4);
  });

  test('ok/a push with a new PushMagic is not coalesced with the old one', async () => {
    const mock = await h.mock();
    const provider = h.provider(mock, { coalesceWindowMs: 60_000 });
    const t = { ...targets(h.topic, 1)[0]!, coalesceKey: 'a' };
    await provider.push([t]);
    const [r] = await provider.push([{ ...t, pushMagic: 'after-re-enrollment' }]);
    expect(r!.outcome).toBe('sent');
    expect(mock.pushes.map((p) => p.pushMagic)).toEqual(['magic-0', 'after-re-enrollment']);
  });

  test('ok/a coalesced push shares a failure instead of hiding it', async () => {
    const mock = await h.mock();
    mock.rule = () => ({ status: 400, reason: 'BadDeviceToken' });
    const provider = h.provider(mock, { coalesceWindowMs: 1000 });
    const [t] = targets(h.topic, 1);
    const results = await provider.push([t!, t!]);
    expect(results.map((r) => r.outcome)).toEqual(['bad-token', 'bad-token']);
    expect(mock.count).toBe(1);
  });

  test('fail/an expired certificate is never used to push', async () => {
    const mock = await h.mock();
    const provider = h.provider(mock, {}, { now: () => h.certificate.notAfter.getTime() + 1 });
    const [r] = await provider.push(targets(h.topic, 1));
    expect(r).toMatchObject({ outcome: 'failed', reason: 'CertificateExpired' });
    expect(mock.count).toBe(0);
    expect(provider.health()).toMatchObject({ expired: true, daysLeft: -1 });
  });

  test('fail/pushing after close fails with Closed', async () => {
    const mock = await h.mock();
    const provider = h.provider(mock);
    await provider.close();
    expect((await provider.push(targets(h.topic, 1)))[0]).toMatchObject({
      outcome: 'failed',
      reason: 'Closed',
    });
  });
});
