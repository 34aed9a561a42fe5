/**
 * A PostgreSQL database that goes away, without stopping the shared server: a real daemon (child
 * process) reaches its database through a TCP proxy on 127.0.0.1 that the test cuts. While it is
 * cut, devices get 503 (never 401), as do the admin API and `/healthz`, and the process stays up;
 * once it is back, the daemon reconnects by itself. The same after the server terminates every
 * backend of the database (`pg_terminate_backend`). The steps run in order.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createPool } from '../../src/storage/postgres/connection.js';
import { newTopic } from '../push/pki.js';
import { pushCertificateArgs, scepEnroller } from '../daemon/scep-enroll.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import type { DeviceEmulator, EmulatorResponse } from '../support/device-emulator.js';
import { createTestDatabase, PG_SERVER, type TestDatabase } from '../support/postgres.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/** Requests a reconnecting daemon may still fail (503) before it answers again. */
const RETRIES = 5;

let db: TestDatabase;
let proxy: TcpProxy;
let daemon: TestDaemon;
let device: DeviceEmulator;

beforeAll(async () => {
  db = await createTestDatabase('outage');
  const server = new URL(PG_SERVER);
  proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  const viaProxy = new URL(db.url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  // A short client-side read timeout (the default is the statement timeout plus 5 s) keeps the
  // black-hole step short; the URL's parameters reach the driver.
  viaProxy.searchParams.set('query_timeout', '3000');
  const topic = newTopic();
  daemon = await spawnDaemon({
    args: [
      ...['--database', viaProxy.toString()],
      ...(await pushCertificateArgs(topic)),
      ...['--rate-limit', 'off'],
    ],
  });
  const enroller = await scepEnroller({
    url: daemon.url,
    api: (...a) => daemon.api(...a),
    topic,
  });
  device = (await enroller.enrollDevice()).device;
}, 120_000);

afterAll(async () => {
  const d = daemon as TestDaemon | undefined;
  await d?.cleanup();
  await (proxy as TcpProxy | undefined)?.close();
  await (db as TestDatabase | undefined)?.drop();
});

const health = async () => (await fetch(`${daemon.url}/healthz`)).status;

/**
 * Polls (Idle) until the daemon answers other than 503, at most {@link RETRIES} + 1 times; every
 * answer before it must be 503. Resolves the answers.
 */
async function pollUntilServed(): Promise<EmulatorResponse[]> {
  const answers: EmulatorResponse[] = [];
  for (let i = 0; i <= RETRIES; i++) {
    const res = await device.idle();
    answers.push(res);
    if (res.status !== 503) break;
  }
  return answers;
}

describe('a database that goes away', () => {
  test('ok/the pool gives up on an answer 5 s after the statement timeout and keeps TCP alive', async () => {
    const pool = createPool({ url: db.url, pool: { statementTimeoutMs: 10_000 } });
    expect(pool.options).toMatchObject({
      statement_timeout: 10_000,
      query_timeout: 15_000,
      keepAlive: true,
    });
    const defaults = createPool({ url: db.url });
    expect(defaults.options).toMatchObject({ query_timeout: 35_000 });
    await Promise.all([pool.end(), defaults.end()]);
  });

  test('ok/through the proxy, devices, the admin API and /healthz are served', async () => {
    expect((await device.idle()).status).toBe(200);
    expect((await daemon.api('GET', '/api/v1/enrollments')).status).toBe(200);
    expect(await health()).toBe(200);
  });

  test('fail/cut: devices get 503 (never 401), so do the admin API and /healthz; the daemon stays up', async () => {
    proxy.cut();
    const idle = await device.idle();
    expect(idle.status).toBe(503);
    expect((await device.tokenUpdate()).status).toBe(503);
    expect((await device.authenticate()).status).toBe(503);
    const admin = await daemon.api('GET', '/api/v1/enrollments');
    expect(admin.status).toBe(503);
    expect(await health()).toBe(503);
    // Time for the background work (last-seen flushes, the outbox) to fail too: still up.
    expect((await device.idle()).status).toBe(503);
    expect(daemon.stderr()).not.toMatch(/Unhandled|uncaught/i);
  });

  test('ok/restored: the daemon reconnects by itself and serves devices again', async () => {
    const before = proxy.accepted;
    proxy.restore();
    const answers = await pollUntilServed();
    expect(answers.map((a) => a.status).slice(0, -1)).toEqual(answers.slice(1).map(() => 503));
    expect(answers.at(-1)?.status).toBe(200);
    expect(proxy.accepted).toBeGreaterThan(before);
    expect((await device.tokenUpdate()).status).toBe(200);
    expect((await daemon.api('GET', '/api/v1/enrollments')).status).toBe(200);
    expect(await health()).toBe(200);
  });

  test('ok/every backend terminated by the server: the next requests reconnect', async () => {
    const killed = await db.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [db.name],
    );
    expect(killed[0]?.n).toBeGreaterThan(0);
    const answers = await pollUntilServed();
    expect(answers.at(-1)?.status).toBe(200);
    expect(answers.filter((a) => a.status !== 503 && a.status !== 200)).toEqual([]);
    expect((await daemon.api('GET', '/api/v1/enrollments')).status).toBe(200);
    expect(daemon.stderr()).not.toMatch(/Unhandled|uncaught/i);
  });

  test('fail/a black hole (packets dropped, no reset): devices get 503, not a hung request, then it reconnects', async () => {
    proxy.freeze();
    expect((await device.idle()).status).toBe(503);
    expect((await daemon.api('GET', '/api/v1/enrollments')).status).toBe(503);
    proxy.restore();
    const answers = await pollUntilServed();
    expect(answers.at(-1)?.status).toBe(200);
    expect(answers.filter((a) => a.status !== 503 && a.status !== 200)).toEqual([]);
    expect(daemon.stderr()).not.toMatch(/Unhandled|uncaught/i);
  }, 90_000);
});
