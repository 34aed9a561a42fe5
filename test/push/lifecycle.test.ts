import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { OrchardError } from '../../src/errors.js';
import type { PushEvent } from '../../src/push/ports.js';
import { createPushHarness, targets, type PushHarness } from './harness.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchPushCertificate } from '../../src/push/apns/reloader.js';
import { issuePushCertificate, newTopic } from './pki.js';

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

const DAY = 86_400_000;

async function rejection(p: Promise<unknown>): Promise<OrchardError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof OrchardError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('push certificate lifecycle', () => {
  test('ok/hot reload under load: nothing lost, later connections use the renewed certificate', async () => {
    const mock = await h.mock();
    mock.rule = () => ({ delayMs: 1 });
    const renewed = await h.issue({ toDays: 730 });
    const events: PushEvent[] = [];
    const provider = h.provider(mock, { poolSize: 1 }, { onEvent: (e) => events.push(e) });
    const oldSerial = h.certificate.certificate.serialNumber.toLowerCase();
    const newSerial = renewed.certificate.serialNumber.toLowerCase();
    let reload: Promise<void> | undefined;
    mock.onPush = (_p, i) => {
      if (i === 300) reload = provider.reloadCertificate(renewed);
    };
    const list = targets(h.topic, 1500);
    const results = await provider.push(list);
    await reload;
    expect(results.filter((r) => r.outcome !== 'sent')).toEqual([]);
    expect(new Set(mock.pushes.map((p) => p.token)).size).toBe(1500);
    expect(mock.pushes).toHaveLength(1500);
    const serials = mock.pushes.map((p) => p.certSerial.toLowerCase());
    expect(serials[0]).toBe(oldSerial);
    expect(serials.at(-1)).toBe(newSerial);
    // once the new certificate is used, the old one never is again
    expect(serials.slice(serials.indexOf(newSerial))).not.toContain(oldSerial);
    expect(provider.certificate).toBe(renewed);
    expect(events).toContainEqual({
      type: 'certificate-reloaded',
      topic: h.topic,
      previousTopic: h.topic,
      notAfter: renewed.notAfter,
    });
  });

  test('fail/a certificate with another topic is refused, naming the orphaned enrollments', async () => {
    const mock = await h.mock();
    const other = await h.issue({ topic: newTopic() });
    const asked: string[] = [];
    const provider = h.provider(
      mock,
      {},
      {
        countEnrollmentsForTopic: (topic) => {
          asked.push(topic);
          return 42;
        },
      },
    );
    const error = await rejection(provider.reloadCertificate(other));
    expect(error.code).toBe('ERR_PUSH_TOPIC_CHANGED');
    expect(error.status).toBe(409);
    expect(error.message).toContain('42 enrolled devices');
    expect(asked).toEqual([h.topic]);
    expect(provider.topic).toBe(h.topic);
    expect((await provider.push(targets(h.topic, 1)))[0]!.outcome).toBe('sent');
  });

  test('ok/forcing a topic change switches topic; old-topic targets are then rejected', async () => {
    const mock = await h.mock();
    const topic = newTopic();
    const other = await h.issue({ topic });
    const provider = h.provider(mock);
    await provider.reloadCertificate(other, { force: true });
    expect(provider.topic).toBe(topic);
    const [old] = await provider.push(targets(h.topic, 1));
    expect(old).toMatchObject({ outcome: 'rejected', reason: 'TopicMismatch' });
    const [fresh] = await provider.push(targets(topic, 1));
    expect(fresh!.outcome).toBe('sent');
    expect(mock.pushes.at(-1)!.topic).toBe(topic);
  });

  test.each([
    ['fail/an expired replacement is refused', { fromDays: -30, toDays: -1 }, 'ERR_CERT_EXPIRED'],
  ])('%s', async (_name, dates, code) => {
    const mock = await h.mock();
    const provider = h.provider(mock);
    const expired = await h.issue(dates);
    expect((await rejection(provider.reloadCertificate(expired))).code).toBe(code);
    expect(provider.certificate).toBe(h.certificate);
  });

  test('ok/expiry events fire once at 30, 14, 7 and 1 days, then expired', async () => {
    const mock = await h.mock();
    const notAfter = h.certificate.notAfter.getTime();
    let clock = notAfter - 40 * DAY;
    const events: PushEvent[] = [];
    const provider = h.provider(mock, {}, { now: () => clock, onEvent: (e) => events.push(e) });
    const seen = (): unknown[] =>
      events.map((e) => (e.type === 'certificate-expiring' ? [e.threshold, e.daysLeft] : e.type));
    provider.checkExpiry();
    expect(seen()).toEqual([]);
    for (const [at, n] of [
      [30, 1],
      [29, 1],
      [14, 2],
      [10, 2],
      [7, 3],
      [1, 4],
      [0.5, 4],
    ] as const) {
      clock = notAfter - at * DAY;
      provider.checkExpiry();
      expect(events).toHaveLength(n);
    }
    expect(seen()).toEqual([
      [30, 30],
      [14, 14],
      [7, 7],
      [1, 1],
    ]);
    expect(provider.health().daysLeft).toBe(0);
    clock = notAfter + 1;
    const [r] = await provider.push(targets(h.topic, 1));
    expect(r).toMatchObject({ outcome: 'failed', reason: 'CertificateExpired' });
    expect(seen().at(-1)).toBe('certificate-expired');
    provider.checkExpiry();
    expect(events).toHaveLength(5);
  });

  test('ok/starting 5 days before expiry emits only the 7-day event', async () => {
    const mock = await h.mock();
    const events: PushEvent[] = [];
    const clock = h.certificate.notAfter.getTime() - 5 * DAY - 1;
    const provider = h.provider(mock, {}, { now: () => clock, onEvent: (e) => events.push(e) });
    provider.checkExpiry();
    expect(events).toEqual([
      {
        type: 'certificate-expiring',
        topic: h.topic,
        daysLeft: 5,
        threshold: 7,
        notAfter: h.certificate.notAfter,
      },
    ]);
  });

  test('ok/health reports topic, days left, circuit and connections', async () => {
    const mock = await h.mock();
    const clock = h.certificate.notAfter.getTime() - 100.5 * DAY;
    const provider = h.provider(mock, {}, { now: () => clock });
    await provider.push(targets(h.topic, 3));
    expect(provider.health()).toEqual({
      topic: h.topic,
      notAfter: h.certificate.notAfter,
      daysLeft: 100,
      expired: false,
      circuit: 'closed',
      connections: 1,
      inFlight: 0,
      queued: 0,
    });
  });
});

describe('push certificate file watch', () => {
  test('ok/a renewed file is picked up; a file with another topic is refused and reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchard-watch-'));
    const cert = join(dir, 'push.pem');
    const key = join(dir, 'push.key');
    writeFileSync(cert, h.certificate.certPem);
    writeFileSync(key, h.certificate.keyPem);
    const mock = await h.mock();
    const provider = h.provider(mock);
    const errors: unknown[] = [];
    const watch = await watchPushCertificate(provider, {
      files: [cert, key],
      load: () => Promise.resolve({ certPem: readFileSync(cert), keyPem: readFileSync(key) }),
      onError: (e) => errors.push(e),
    });
    try {
      expect(await watch.check()).toBe(false);
      const renewed = await issuePushCertificate(h.pki, { topic: h.topic, toDays: 400 });
      writeFileSync(cert, renewed.certPem);
      writeFileSync(key, renewed.keyPem);
      expect(await watch.check()).toBe(true);
      expect(provider.certificate.notAfter.getTime()).toBeGreaterThan(
        h.certificate.notAfter.getTime(),
      );
      expect((await provider.push(targets(h.topic, 1)))[0]!.outcome).toBe('sent');
      const other = await issuePushCertificate(h.pki, { topic: newTopic() });
      writeFileSync(cert, other.certPem);
      writeFileSync(key, `${other.keyPem}\n`);
      expect(await watch.check()).toBe(false);
      expect((errors[0] as OrchardError).code).toBe('ERR_PUSH_TOPIC_CHANGED');
      expect(provider.topic).toBe(h.topic);
    } finally {
      watch.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
