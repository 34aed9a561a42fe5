/**
 * Device identity from the TLS client certificate, end to end: a real HTTPS server on
 * 127.0.0.1:0 (`requestCert: true, rejectUnauthorized: false`) mounting the core through
 * `createNodeListener`, devices presenting client certificates and no `Mdm-Signature`.
 * Refusals are 400 with a stable code, never 401 (a 401 unenrolls a device).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createNodeListener } from '../../src/http/node.js';
import { createMdmCore, createMemoryStorage, withCertAuth } from '../../src/index.js';
import { commandOf, type EmulatorResponse } from '../support/device-emulator.js';
import { makeCa, makeLeaf, type TestIdentity } from '../support/pki.js';
import { issueServerIdentity, TlsDevice } from '../daemon/tls-support.js';

const TOPIC = 'com.apple.mgmt.External.tls-test';
let server: Server;
let baseUrl: string;
let deviceCa: TestIdentity;
let foreignCa: TestIdentity;
let serverCa: TestIdentity;
let core: ReturnType<typeof createMdmCore>;

beforeAll(async () => {
  [deviceCa, foreignCa, serverCa] = await Promise.all([
    makeCa({ subject: 'CN=Device CA', keyType: 'ec-p256' }),
    makeCa({ subject: 'CN=Foreign CA', keyType: 'ec-p256' }),
    makeCa({ subject: 'CN=Server CA', keyType: 'ec-p256' }),
  ]);
  const tls = await issueServerIdentity(serverCa);
  const storage = createMemoryStorage();
  core = createMdmCore({ storage }, { topic: TOPIC });
  const service = withCertAuth(core, { store: storage, roots: [deviceCa.certificate] });
  server = createServer(
    { cert: tls.certPem, key: tls.keyPem, requestCert: true, rejectUnauthorized: false },
    createNodeListener(service),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function device(ca: TestIdentity, subject = `CN=dev-${randomUUID()}`): Promise<TlsDevice> {
  const leaf = await makeLeaf(ca, { subject, keyType: 'ec-p256' });
  return new TlsDevice(
    {
      baseUrl,
      topic: TOPIC,
      identity: { certificate: leaf.certificate, privateKey: leaf.privateKey },
    },
    serverCa.certPem,
  );
}

function errorCode(res: EmulatorResponse): string {
  return (JSON.parse(res.body.toString()) as { code: string }).code;
}

describe('TLS client certificate identity', () => {
  test('ok/Authenticate, TokenUpdate and Idle are identified by the client certificate', async () => {
    const dev = await device(deviceCa);
    expect((await dev.authenticate()).status).toBe(200);
    expect((await dev.tokenUpdate()).status).toBe(200);
    expect((await core.findEnrollment(dev.enrollmentId))?.enrolled).toBe(true);
    const uuid = await core.enqueue([dev.enrollmentId], {
      RequestType: 'DeviceInformation',
      Queries: ['DeviceName'],
    });
    const idle = await dev.idle();
    expect(idle.status).toBe(200);
    expect(commandOf(idle)?.uuid).toBe(uuid);
    expect(
      (await dev.answer(uuid, 'Acknowledged', { QueryResponses: { DeviceName: 'x' } })).status,
    ).toBe(200);
  });

  test.each([
    ['no client certificate', 'ERR_IDENTITY_MISSING', 'none'],
    ['a certificate from a foreign CA', 'ERR_CERT_CHAIN', 'foreign'],
    ['a self-signed certificate', 'ERR_CERT_CHAIN', 'self'],
    ['an expired certificate', 'ERR_CERT_CHAIN', 'expired'],
  ] as const)('fail/%s is 400 %s, never 401', async (_name, code, kind) => {
    const dev = await device(deviceCa);
    if (kind === 'none') dev.tlsIdentity = undefined;
    else {
      const leaf =
        kind === 'foreign'
          ? await makeLeaf(foreignCa, { keyType: 'ec-p256' })
          : kind === 'self'
            ? await makeCa({ subject: 'CN=self', keyType: 'ec-p256' })
            : await makeLeaf(deviceCa, {
                keyType: 'ec-p256',
                notBefore: new Date(Date.now() - 10 * 86_400_000),
                notAfter: new Date(Date.now() - 86_400_000),
              });
      dev.tlsIdentity = leaf;
    }
    for (const res of [await dev.authenticate(), await dev.idle()]) {
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe(code);
    }
    expect(await core.findEnrollment(dev.enrollmentId)).toBeUndefined();
  });

  test('fail/a certificate bound to another enrollment is refused with 400, never 401', async () => {
    const a = await device(deviceCa);
    await a.enroll();
    const b = await device(deviceCa);
    await b.enroll();
    // B presents A's certificate: for Authenticate (a new binding) and for B's own polling.
    b.tlsIdentity = a.tlsIdentity;
    const results = [await b.idle(), await b.tokenUpdate(), await b.authenticate()];
    for (const res of results) {
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('ERR_CERT_BINDING');
    }
    // A stays enrolled and still works; B's binding is untouched.
    expect((await a.idle()).status).toBe(200);
    expect((await core.findEnrollment(b.enrollmentId))?.enrolled).toBe(true);
  });
});
