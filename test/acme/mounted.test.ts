/**
 * ACME mounted beside SCEP by `orchardRoutes` over `createOrchardServices`' CA: a device gets an
 * ECDSA P-256 identity over ACME (test-01 standing in for device-attest-01), checks in with it
 * (Mdm-Signature), and the certificate is recorded by the same CA as SCEP's, so revoking it
 * there works the same way.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createAcmeServer } from '../../src/acme/server.js';
import { createCsr } from '../../src/crypto/csr.js';
import { createEdgeListener } from '../../src/http/node.js';
import { silentLogger } from '../../src/index.js';
import {
  createOrchardServices,
  orchardRoutes,
  type OrchardServices,
} from '../../src/server/index.js';
import {
  createMemoryAcmeStore,
  createMemoryAdminStorage,
  createMemoryCaStorage,
  createMemoryStorage,
} from '../../src/storage/memory/index.js';
import { acmeTestClient } from '../support/acme-client.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { makeCa, makeLeaf } from '../support/pki.js';

const storage = createMemoryStorage();
const admin = createMemoryAdminStorage();
const caStorage = createMemoryCaStorage();
let services: OrchardServices;
let server: Server;
let url = '';

beforeAll(async () => {
  const ca = await makeCa();
  const signing = await makeLeaf(ca, { subject: 'CN=Signing' });
  const clock = () => new Date();
  services = createOrchardServices(
    {
      ...{ storage, admin, ca: caStorage, push: undefined, clock },
      pki: { ca, signing: { ...signing, chain: [ca.certificate] } },
      logger: silentLogger,
    },
    { scepChallenge: 'unused-static-challenge' },
  );
  const acme = createAcmeServer(
    {
      store: createMemoryAcmeStore(),
      ca: services.ca,
      authorizeIdentifier: () => Promise.resolve({}),
    },
    { baseUrl: () => `${url}/acme`, testChallenge: true },
  );
  const routes = orchardRoutes({
    ...{ services, storage, admin, push: undefined, clock, logger: silentLogger },
    certificates: caStorage.certificates,
    acme,
  });
  const logger = { ...silentLogger, child: () => silentLogger };
  server = createServer(createEdgeListener({ routes, logger }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await services.close();
});

test('ok/an ECDSA identity from ACME checks in, and once revoked like a SCEP one is refused (never 401)', async () => {
  const client = await acmeTestClient(`${url}/acme/directory`);
  await client.newAccount();
  const order = await client.newOrder('opaque-client-identifier');
  const authz = await client.post((order.json.authorizations as string[])[0] ?? '', '');
  const test01 = (authz.json.challenges as { type: string; url: string }[]).find(
    (c) => c.type === 'test-01',
  );
  await client.post(test01?.url ?? '', {});
  const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const csr = createCsr({ subject: 'CN=acme-device', privateKey }).toString('base64url');
  const fin = await client.post(order.json.finalize as string, { csr });
  const pem = (await client.post(fin.json.certificate as string, '')).text;
  const certificate = new X509Certificate(pem);
  expect(certificate.checkIssued(services.ca.certificate)).toBe(true);

  const device = new DeviceEmulator({
    baseUrl: url,
    topic: 'com.apple.mgmt.test',
    identity: { certificate, privateKey },
  });
  await device.enroll();
  expect((await storage.findEnrollment(device.enrollmentId))?.enrolled).toBe(true);

  await services.ca.revoke(certificate.serialNumber, 'test');
  const record = await caStorage.certificates.findIssued(certificate.serialNumber.toLowerCase());
  expect(record?.revokedAt).toBeInstanceOf(Date);
  const refused = await device.idle();
  expect(refused.status).toBeGreaterThanOrEqual(400);
  expect(refused.status).not.toBe(401);
});
