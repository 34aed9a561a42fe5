/**
 * The daemon serving HTTPS directly (`--tls-cert`, `--tls-key`, `--tls-client-cert`): the admin
 * API over TLS, and a device whose identity is only its TLS client certificate, issued by the
 * daemon's own CA (read from the data dir), enrolling and polling a queued command. A client
 * certificate from another CA is answered 400, never a dropped handshake and never 401.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import { commandOf } from '../support/device-emulator.js';
import { makeCa, makeLeaf, type TestIdentity } from '../support/pki.js';
import { httpsRequest, issueServerIdentity, TlsDevice } from './tls-support.js';

let daemon: TestDaemon;
let serverCa: TestIdentity;
let dir: string;

beforeAll(async () => {
  serverCa = await makeCa({ subject: 'CN=TLS Server CA', keyType: 'ec-p256' });
  const server = await issueServerIdentity(serverCa);
  dir = mkdtempSync(join(tmpdir(), 'orchard-tls-'));
  writeFileSync(join(dir, 'server.pem'), server.certPem);
  writeFileSync(join(dir, 'server.key'), server.keyPem);
  daemon = await spawnDaemon({
    args: [
      ...['--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server.key')],
      '--tls-client-cert',
    ],
  });
}, 90_000);

afterAll(async () => {
  await daemon.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape
type Json = any;

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await httpsRequest(daemon.url + path, {
    method,
    ca: serverCa.certPem,
    headers: {
      authorization: `Bearer ${daemon.apiKey ?? ''}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
  });
  return { status: res.status, body: JSON.parse(res.body.toString() || 'null') as unknown };
}

async function daemonCaLeaf(): Promise<TestIdentity> {
  const certificate = new X509Certificate(readFileSync(join(daemon.dataDir, 'ca', 'ca.pem')));
  const privateKey = createPrivateKey(readFileSync(join(daemon.dataDir, 'ca', 'ca.key')));
  return makeLeaf(
    { certificate, privateKey, certPem: '', keyPem: '' },
    { subject: `CN=tls-device-${randomUUID()}`, keyType: 'ec-p256' },
  );
}

function device(identity: TestIdentity): TlsDevice {
  return new TlsDevice(
    { baseUrl: daemon.url, topic: 'com.apple.mgmt.External.none', identity },
    serverCa.certPem,
  );
}

describe('orchard serve over HTTPS', () => {
  test('ok/listens on https and serves the admin API and health over TLS', async () => {
    expect(daemon.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await api('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    const list = await api('GET', '/api/v1/enrollments');
    expect(list.status).toBe(200);
  });

  test('ok/a device identified by its TLS client certificate enrolls and gets a queued command', async () => {
    const dev = device(await daemonCaLeaf());
    await dev.enroll();
    const one = await api('GET', `/api/v1/enrollments/${dev.enrollmentId}`);
    expect(one.body).toMatchObject({ id: dev.enrollmentId, enrolled: true });
    const queued = await api('POST', `/api/v1/enrollments/${dev.enrollmentId}/commands`, {
      RequestType: 'DeviceInformation',
      Queries: ['DeviceName'],
    });
    expect(queued.status).toBe(201);
    const idle = await dev.idle();
    expect(commandOf(idle)?.uuid).toBe(queued.body.commandUuid);
    const ack = await dev.answer(queued.body.commandUuid as string, 'Acknowledged', {
      QueryResponses: { DeviceName: 'tls' },
    });
    expect(ack.status).toBe(200);
    const result = await api('GET', `/api/v1/commands/${queued.body.commandUuid as string}`);
    expect(JSON.stringify(result.body)).toContain('Acknowledged');
  });

  test.each([
    ['no client certificate', 'ERR_IDENTITY_MISSING', 'none'],
    ['a client certificate from another CA', 'ERR_CERT_CHAIN', 'foreign'],
  ] as const)('fail/%s is 400 %s, never 401', async (_name, code, kind) => {
    const dev = device(await daemonCaLeaf());
    if (kind === 'none') dev.tlsIdentity = undefined;
    else dev.tlsIdentity = await makeLeaf(serverCa, { keyType: 'ec-p256' });
    const res = await dev.authenticate();
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code });
  });
});
