/**
 * Issue 13, "failed pushes are invisible", on a running daemon: the push route answers per device
 * whether APNs accepted the push, why it failed or why it was deferred; failures are logged once
 * per reason (never with a token or PushMagic); `/healthz` and `/metrics` show the circuit and
 * recent outcomes; and queueing a command answers 201 while its push is still pending, the
 * outcome being recorded on the command afterwards. No assertion depends on wall-clock time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createApnsTestPki, issuePushCertificate, newTopic } from '../push/pki.js';
import { createApnsMock, type ApnsMock } from '../support/apns-mock.js';
import type { DeviceEmulator } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const parsed = (h: Harness): LogLine[] => h.logs.map((l) => JSON.parse(l) as LogLine);

/** Polls `read` until `done` holds, at most `tries` times (a count, not a time bound). */
async function pollFor<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  tries = 400,
): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }
  return value;
}

describe('APNs unreachable (the harness points at https://127.0.0.1:9)', () => {
  let h: Harness;
  let dev: DeviceEmulator;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of the push route
  let first: { status: number; body: any };

  beforeAll(async () => {
    h = await startHarness();
    dev = await h.device();
    first = await h.api('POST', `/api/v1/enrollments/${dev.enrollmentId}/push`);
  }, 60_000);

  afterAll(async () => {
    await h.close();
  });

  test('fail/the push route says the push failed, with the transport error', () => {
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      pushed: 0,
      results: [
        {
          enrollmentId: dev.enrollmentId,
          outcome: 'failed',
          reason: 'ECONNREFUSED',
          apnsId: null,
          status: null,
          at: expect.any(String),
        },
      ],
    });
  });

  test('fail/the failure is logged at warn with its reason, without token or PushMagic', () => {
    const warn = parsed(h).find((l) => l.level === 40 && l.msg === 'push failed');
    expect(warn).toMatchObject({
      outcome: 'failed',
      reason: 'ECONNREFUSED',
      count: 1,
      enrollmentIds: [dev.enrollmentId],
    });
    const all = h.logs.join('\n');
    expect(all).not.toContain(dev.token.toString('hex'));
    expect(all).not.toContain(dev.token.toString('base64'));
    expect(all).not.toContain(dev.pushMagic);
  });

  test('ok/with the circuit open the next push is deferred, and healthz says open', async () => {
    const next = await h.api('POST', `/api/v1/enrollments/${dev.enrollmentId}/push`);
    expect(next.body).toMatchObject({
      pushed: 0,
      results: [{ outcome: 'deferred', reason: 'CircuitOpen' }],
    });
    const health = await h.api('GET', '/healthz', undefined, null);
    expect(health.status).toBe(200);
    expect(health.body.push).toMatchObject({
      circuit: 'open',
      recent: { failed: 1, deferred: 1, byReason: { ECONNREFUSED: 1, CircuitOpen: 1 } },
      lastFailure: { outcome: 'deferred', reason: 'CircuitOpen' },
    });
    expect(health.body.push.recent.windowSeconds).toBeGreaterThan(0);
  });

  test('ok/metrics count outcomes by reason and show the circuit state', async () => {
    const res = await h.raw('GET', '/metrics');
    expect(res.body).toContain(
      'orchard_push_results_total{outcome="failed",reason="ECONNREFUSED"} 1',
    );
    expect(res.body).toMatch(
      /orchard_push_results_total\{outcome="deferred",reason="CircuitOpen"\} \d+/,
    );
    expect(res.body).toContain('# TYPE orchard_push_circuit_state gauge');
    expect(res.body).toContain('orchard_push_circuit_state{state="open"} 1');
    expect(res.body).toContain('orchard_push_circuit_state{state="closed"} 0');
  });

  test('ok/a queued command records its push outcome on the target', async () => {
    const q = await h.api('POST', `/api/v1/enrollments/${dev.enrollmentId}/commands`, {
      RequestType: 'ProfileList',
    });
    expect(q.status).toBe(201);
    const read = await pollFor(
      () => h.api('GET', `/api/v1/commands/${q.body.commandUuid}`),
      (r) => r.body.targets?.[0]?.lastPush !== null,
    );
    expect(read.body.targets[0]).toMatchObject({
      status: 'queued',
      lastPush: {
        outcome: 'deferred',
        reason: 'CircuitOpen',
        apnsId: null,
        at: expect.any(String),
      },
    });
    const list = await h.api('GET', `/api/v1/enrollments/${dev.enrollmentId}/commands`);
    expect(list.body.items.at(-1).lastPush).toMatchObject({ outcome: 'deferred' });
  });
});

describe('a mock APNs', () => {
  let h: Harness;
  let mock: ApnsMock;
  let dir: string;

  /** An enrolled device: its profile carries the mock's topic, the daemon's push topic. */
  const device = (): Promise<DeviceEmulator> => h.device();

  beforeAll(async () => {
    const pki = await createApnsTestPki();
    const topic = newTopic();
    const push = await issuePushCertificate(pki, { topic });
    dir = mkdtempSync(join(tmpdir(), 'orchard-push-outcomes-'));
    writeFileSync(join(dir, 'push.pem'), push.certPem);
    writeFileSync(join(dir, 'push.key'), push.keyPem);
    writeFileSync(join(dir, 'apns-ca.pem'), pki.ca.certPem);
    mock = await createApnsMock({ server: pki.server, ca: pki.ca.certPem });
    h = await startHarness({
      pushCert: join(dir, 'push.pem'),
      pushKey: join(dir, 'push.key'),
      apnsUrl: mock.url,
      apnsCa: join(dir, 'apns-ca.pem'),
    });
  }, 60_000);

  afterAll(async () => {
    await h.close();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('ok/accepted: pushed 1 with the apns-id', async () => {
    const dev = await device();
    const res = await h.api('POST', `/api/v1/enrollments/${dev.enrollmentId}/push`);
    expect(res.body).toEqual({
      pushed: 1,
      results: [
        {
          enrollmentId: dev.enrollmentId,
          outcome: 'accepted',
          reason: null,
          apnsId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          status: 200,
          at: expect.any(String),
        },
      ],
    });
    expect(mock.pushes.at(-1)).toMatchObject({
      token: dev.token.toString('hex'),
      pushMagic: dev.pushMagic,
    });
  });

  test.each([
    ['fail/410 Unregistered', 410, 'Unregistered'],
    ['fail/400 BadDeviceToken', 400, 'BadDeviceToken'],
  ])('%s is reported per device with APNs reason', async (_name, status, reason) => {
    const dev = await device();
    const token = dev.token.toString('hex');
    mock.rule = (p) => (p.token === token ? { status, reason } : undefined);
    const res = await h.api('POST', `/api/v1/enrollments/${dev.enrollmentId}/push`);
    mock.rule = undefined;
    expect(res.body).toEqual({
      pushed: 0,
      results: [
        {
          enrollmentId: dev.enrollmentId,
          outcome: 'failed',
          reason,
          apnsId: expect.any(String),
          status,
          at: expect.any(String),
        },
      ],
    });
    const warn = parsed(h).find((l) => l.msg === 'push failed' && l.reason === reason);
    expect(warn).toMatchObject({ level: 40, enrollmentIds: [dev.enrollmentId] });
  });

  test('ok/after 410 the token is dropped: the next push has no token', async () => {
    const dev = await device();
    const token = dev.token.toString('hex');
    mock.rule = (p) => (p.token === token ? { status: 410, reason: 'Unregistered' } : undefined);
    await h.api('POST', `/api/v1/enrollments/${dev.enrollmentId}/push`);
    mock.rule = undefined;
    // The daemon invalidates the token from the provider's event, after the answer.
    const next = await pollFor(
      () => h.api('POST', `/api/v1/enrollments/${dev.enrollmentId}/push`),
      (r) => r.body.results?.[0]?.outcome === 'no-token',
    );
    expect(next.body.results[0]).toMatchObject({ outcome: 'no-token', reason: 'Unregistered' });
  });

  test('ok/queueing answers 201 while the push is pending; the outcome is recorded once APNs answers', async () => {
    const dev = await device();
    const token = dev.token.toString('hex');
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const arrived = mock.count;
    mock.rule = (p) => (p.token === token ? { until: held } : undefined);
    try {
      const q = await h.api('POST', `/api/v1/enrollments/${dev.enrollmentId}/commands`, {
        RequestType: 'ProfileList',
      });
      expect(q.status).toBe(201);
      const uuid = q.body.commandUuid as string;
      // APNs has not answered (it cannot before `release`), so nothing is recorded yet.
      const pending = await h.api('GET', `/api/v1/commands/${uuid}`);
      expect(pending.body.targets[0]).toMatchObject({ status: 'queued', lastPush: null });
      // The push did reach APNs: it is waiting for the answer, not for the command's 201.
      await pollFor(
        () => Promise.resolve(mock.count),
        (n) => n > arrived,
      );
      expect(mock.count).toBeGreaterThan(arrived);
      release();
      const done = await pollFor(
        () => h.api('GET', `/api/v1/commands/${uuid}`),
        (r) => r.body.targets[0].lastPush !== null,
      );
      expect(done.body.targets[0].lastPush).toEqual({
        outcome: 'accepted',
        reason: null,
        apnsId: expect.any(String),
        at: expect.any(String),
      });
    } finally {
      release();
      mock.rule = undefined;
    }
  });
});
