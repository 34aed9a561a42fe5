import { afterEach, describe, expect, test } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoffDelay } from '../../src/service/outbox-delivery.js';
import type { OutboxWorkerOptions } from '../../src/service/webhooks.js';
import {
  createOutboxWorker,
  signWebhook,
  verifyWebhookSignature,
} from '../../src/service/webhooks.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { MdmStorage } from '../../src/storage/ports.js';
import type { Answer, Receiver } from './webhooks-receiver.js';
import { startReceiver, waitFor } from './webhooks-receiver.js';

const SECRET = 'whsec-test-secret';
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(
  answer: (n: number) => Answer,
  options: Partial<OutboxWorkerOptions> = {},
): Promise<{ store: MdmStorage; receiver: Receiver; options: OutboxWorkerOptions }> {
  const store = createMemoryStorage();
  const receiver = await startReceiver(answer);
  cleanups.push(
    () => store.close(),
    () => receiver.close(),
  );
  const base: OutboxWorkerOptions = {
    store,
    url: receiver.url,
    secret: SECRET,
    timeoutMs: 1000,
    pollIntervalMs: 10,
    backoff: { baseMs: 10, maxMs: 40 },
    ...options,
  };
  return { store, receiver, options: base };
}

async function enqueue(store: MdmStorage, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `evt-${i}`);
  for (const id of ids) {
    await store.enqueueEvent({
      id,
      type: 'enrolled',
      payload: JSON.stringify({ id, type: 'enrolled' }),
      createdAt: new Date(),
    });
  }
  return ids;
}

function run(options: OutboxWorkerOptions): void {
  const worker = createOutboxWorker(options);
  worker.start();
  cleanups.push(() => worker.stop());
}

describe('webhook delivery', () => {
  test('ok/delivers signed JSON that the receiver verifies, then marks it delivered', async () => {
    const { store, receiver, options } = await setup(() => ({ status: 204 }));
    await enqueue(store, 1);
    const worker = createOutboxWorker(options);
    expect(await worker.runOnce()).toEqual({ claimed: 1, delivered: 1, retried: 0, dead: 0 });
    const [request] = receiver.received;
    expect(request?.body).toBe('{"id":"evt-0","type":"enrolled"}');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'orchard-event-id': 'evt-0',
      'orchard-event-type': 'enrolled',
      'orchard-delivery-attempt': '1',
    });
    const signature = request?.headers['orchard-signature'] as string;
    expect(verifyWebhookSignature(signature, request?.body ?? '', SECRET)).toBe(true);
    expect(verifyWebhookSignature(signature, `${request?.body ?? ''} `, SECRET)).toBe(false);
    expect((await store.findOutboxEntry('evt-0'))?.deliveredAt).toBeInstanceOf(Date);
    expect(await worker.runOnce()).toEqual({ claimed: 0, delivered: 0, retried: 0, dead: 0 });
  });

  test('ok/500s then success: retried with backoff until delivered', async () => {
    const answers: Answer[] = [
      { status: 500 },
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 200 },
    ];
    const { store, receiver, options } = await setup((n) => answers[n] ?? { status: 200 });
    await enqueue(store, 1);
    run(options);
    await waitFor(async () => (await store.findOutboxEntry('evt-0'))?.deliveredAt !== undefined);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received.map((r) => r.headers['orchard-delivery-attempt'])).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(await store.findOutboxEntry('evt-0')).toMatchObject({
      attempts: 3,
      lastError: 'HTTP 503',
    });
    const gaps = receiver.received.slice(1).map((r, i) => r.at - (receiver.received[i]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(4);
  });

  test('ok/a receiver slower than the timeout is retried; a slow but timely one is not', async () => {
    const answers: Answer[] = [
      { status: 200, delayMs: 1200 },
      { status: 200, delayMs: 50 },
    ];
    const { store, receiver, options } = await setup((n) => answers[n] ?? { status: 200 }, {
      timeoutMs: 400,
    });
    await enqueue(store, 1);
    run(options);
    await waitFor(async () => (await store.findOutboxEntry('evt-0'))?.deliveredAt !== undefined);
    expect(receiver.received).toHaveLength(2);
    expect(await store.findOutboxEntry('evt-0')).toMatchObject({
      attempts: 2,
      lastError: 'timeout after 400 ms',
    });
  });

  test('ok/two workers on one outbox with a slow receiver never double-send', async () => {
    const { store, receiver, options } = await setup(() => ({ status: 200, delayMs: 50 }), {
      batchSize: 3,
      leaseMs: 5000,
    });
    const ids = await enqueue(store, 12);
    run(options);
    run(options);
    await waitFor(async () =>
      (await Promise.all(ids.map((id) => store.findOutboxEntry(id)))).every(
        (e) => e?.deliveredAt !== undefined,
      ),
    );
    const got = receiver.received.map((r) => r.headers['orchard-event-id']);
    expect([...got].sort()).toEqual([...ids].sort());
  });

  test('fail/gives up after maxAttempts and marks the entry dead', async () => {
    const { store, receiver, options } = await setup(() => ({ status: 500 }), { maxAttempts: 3 });
    await enqueue(store, 1);
    run(options);
    await waitFor(async () => (await store.findOutboxEntry('evt-0'))?.deadAt !== undefined);
    expect(receiver.received).toHaveLength(3);
    expect(await store.findOutboxEntry('evt-0')).toMatchObject({
      attempts: 3,
      lastError: 'HTTP 500',
    });
  });

  test('fail/a refused connection is a retried network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) =>
      closed.close(() => {
        resolve();
      }),
    );
    const { store, options } = await setup(() => ({ status: 200 }));
    await enqueue(store, 1);
    const worker = createOutboxWorker({ ...options, url: `http://127.0.0.1:${port}/hook` });
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    expect((await store.findOutboxEntry('evt-0'))?.lastError).toBe('network error: ECONNREFUSED');
  });

  test('ok/a failing store does not stop the loop', async () => {
    const { store, receiver, options } = await setup(() => ({ status: 200 }));
    await enqueue(store, 1);
    let faults = 2;
    const flaky: MdmStorage = {
      ...store,
      claimDue: (...args) =>
        faults-- > 0 ? Promise.reject(new Error('injected')) : store.claimDue(...args),
    };
    run({ ...options, store: flaky });
    await waitFor(() => receiver.received.length === 1);
    expect(faults).toBeLessThan(0);
  });

  test.each<[string, Partial<OutboxWorkerOptions>]>([
    ['fail/empty secret', { secret: '' }],
    ['fail/not a URL', { url: 'hook' }],
    ['fail/not http', { url: 'file:///etc/passwd' }],
    ['fail/lease not longer than timeout', { timeoutMs: 1000, leaseMs: 1000 }],
    ['fail/zero batch', { batchSize: 0 }],
  ])('%s is a TypeError', (_name, bad) => {
    const options = {
      store: createMemoryStorage(),
      url: 'http://127.0.0.1:1/',
      secret: 's',
      ...bad,
    };
    expect(() => createOutboxWorker(options)).toThrow(TypeError);
  });
});

describe('webhook signatures', () => {
  const body = '{"id":"e1"}';
  const now = new Date(Date.UTC(2026, 0, 1));
  const t = Math.floor(now.getTime() / 1000);
  const good = signWebhook(body, SECRET, t);

  test.each<[string, string | undefined, string, string, boolean]>([
    ['ok/valid', good, body, SECRET, true],
    [
      'ok/rotation: any v1 may match',
      `t=${t},v1=${'0'.repeat(64)},${good.split(',')[1] ?? ''}`,
      body,
      SECRET,
      true,
    ],
    ['fail/tampered body', good, '{"id":"e2"}', SECRET, false],
    ['fail/wrong secret', good, body, 'other', false],
    ['fail/stale timestamp', signWebhook(body, SECRET, t - 301), body, SECRET, false],
    ['fail/future timestamp', signWebhook(body, SECRET, t + 301), body, SECRET, false],
    ['fail/missing header', undefined, body, SECRET, false],
    ['fail/garbage header', 'garbage', body, SECRET, false],
    ['fail/no v1', `t=${t}`, body, SECRET, false],
  ])('%s', (_name, header, payload, secret, valid) => {
    expect(verifyWebhookSignature(header, payload, secret, { clock: () => now })).toBe(valid);
  });

  test('ok/signature format is t=<unix>,v1=<hex sha256>', () => {
    expect(good).toMatch(/^t=1767225600,v1=[0-9a-f]{64}$/);
  });

  test.each<[string, number, number, number | undefined, number]>([
    ['ok/first retry, no jitter', 1, 0, undefined, 500],
    ['ok/first retry, full jitter', 1, 0.999999, undefined, 1000],
    ['ok/third retry doubles twice', 3, 1, undefined, 4000],
    ['ok/capped', 30, 1, undefined, 60_000],
    ['ok/Retry-After raises the delay', 1, 0, 7000, 7000],
    ['ok/Retry-After stays under the cap', 1, 0, 10_000_000, 60_000],
  ])('%s', (_name, attempts, random, retryAfter, expected) => {
    expect(backoffDelay(attempts, { baseMs: 1000, maxMs: 60_000 }, () => random, retryAfter)).toBe(
      expected,
    );
  });
});
