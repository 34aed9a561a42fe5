import { createHook } from 'node:async_hooks';
import http2 from 'node:http2';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type { ApnsMock } from '../support/apns-mock.js';
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

/** Async resources of `kind` created while `fn` runs (async_hooks sees node's own too). */
async function createdDuring(kind: string, fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === kind) n++;
    },
  });
  hook.enable();
  try {
    await fn();
  } finally {
    hook.disable();
  }
  return n;
}

/** `n` pushes the plain node:http2 way: flowing stream, body, wait for 'close'. */
async function plainPushes(mock: ApnsMock, n: number): Promise<void> {
  const session = http2.connect(mock.url, {
    cert: h.certificate.certPem,
    key: h.certificate.keyPem,
    ca: h.pki.ca.certPem,
  });
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': `/3/device/${(i + 1).toString(16).padStart(64, 'c')}`,
        'apns-topic': h.topic,
        'apns-push-type': 'mdm',
        'apns-priority': '10',
        'apns-expiration': '0',
      });
      stream.resume();
      stream.on('close', resolve);
      stream.end('{"mdm":"magic"}');
    });
  await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  session.close();
}

describe('APNs provider: the hot path', () => {
  test('ok/pushes answered 200 create no promise per push', async () => {
    const mock = await h.mock({ record: false });
    const provider = h.provider(mock, { poolSize: 1, coalesceWindowMs: 0 });
    await provider.push(targets(h.topic, 10));
    let sent = 0;
    const created = await createdDuring('PROMISE', async () => {
      const results = await provider.push(targets(h.topic, 2000));
      sent = results.filter((r) => r.outcome === 'sent').length;
    });
    expect(sent).toBe(2000);
    // A handful per batch (the batch, its awaits), not one or more per push.
    expect(created).toBeLessThan(50);
  });

  test('ok/a push costs node no more ticks than a plain node:http2 request', async () => {
    const mock = await h.mock({ record: false });
    const provider = h.provider(mock, { poolSize: 1, coalesceWindowMs: 0 });
    await provider.push(targets(h.topic, 10));
    const n = 500;
    const plain = await createdDuring('TickObject', () => plainPushes(mock, n));
    const ours = await createdDuring('TickObject', () => provider.push(targets(h.topic, n)));
    // A stream resumed only in 'response' costs about four more ticks per push.
    expect(ours).toBeLessThan(plain + n / 2);
  });

  test('ok/a push in another batch joins the one in flight to the same device', async () => {
    const mock = await h.mock();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    mock.rule = () => ({ until: held });
    const provider = h.provider(mock, { coalesceWindowMs: 0 });
    const [t] = targets(h.topic, 1);
    const first = provider.push([t!]);
    while (mock.count === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = provider.push([t!, t!]);
    release();
    const outcomes = [...(await first), ...(await second)].map((r) => r.outcome);
    expect(outcomes).toEqual(['sent', 'coalesced', 'coalesced']);
    expect(mock.count).toBe(1);
  });

  test('fail/a retry loop that throws rejects every batch waiting on the push; the next push goes out', async () => {
    const mock = await h.mock();
    const boom = new Error('sleep failed');
    mock.rule = () => ({ status: 503, reason: 'ServiceUnavailable' });
    const provider = h.provider(
      mock,
      { coalesceWindowMs: 60_000 },
      { sleep: () => Promise.reject(boom) },
    );
    const t = { ...targets(h.topic, 1)[0]!, coalesceKey: 'command-a' };
    const batches = [provider.push([t, t]), provider.push([t])];
    for (const batch of batches) await expect(batch).rejects.toBe(boom);
    mock.rule = undefined;
    const [r] = await provider.push([t]);
    expect(r!.outcome).toBe('sent');
    expect(mock.count).toBe(2);
  });
});
