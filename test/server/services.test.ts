/**
 * createOrchardServices and orchardRoutes without the daemon: memory stores, a test CA, a
 * node:http server of the embedder's own; a device gets its certificate over SCEP and checks in.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEdgeListener } from '../../src/http/node.js';
import { silentLogger } from '../../src/index.js';
import {
  createOrchardServices,
  orchardRoutes,
  type OrchardServices,
} from '../../src/server/index.js';
import {
  createMemoryAdminStorage,
  createMemoryCaStorage,
  createMemoryStorage,
} from '../../src/storage/memory/index.js';
import { scepEnroller } from '../daemon/scep-enroll.js';
import type { Harness } from '../daemon/harness.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { makeCa, makeLeaf } from '../support/pki.js';

const CHALLENGE = 'embedded-static-challenge';
const storage = createMemoryStorage();
const admin = createMemoryAdminStorage();
let services: OrchardServices;
let server: Server;
let url: string;

beforeAll(async () => {
  const ca = await makeCa();
  const signing = await makeLeaf(ca, { subject: 'CN=Signing' });
  const clock = () => new Date();
  services = createOrchardServices(
    {
      ...{ storage, admin, ca: createMemoryCaStorage(), push: undefined, clock },
      pki: { ca, signing: { ...signing, chain: [ca.certificate] } },
      logger: silentLogger,
    },
    { scepChallenge: CHALLENGE },
  );
  const routes = orchardRoutes({
    ...{ services, storage, admin, push: undefined, clock, logger: silentLogger },
    certificates: createMemoryCaStorage().certificates,
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

describe('createOrchardServices embedded without the daemon', () => {
  test('ok/a device enrolls over SCEP with the static challenge and checks in', async () => {
    const h = { daemon: { url }, topic: 'com.apple.mgmt.test' } as unknown as Harness;
    const scep = await scepEnroller(h);
    expect(scep.ca.fingerprint256).toBe(services.ca.certificate.fingerprint256);
    const identity = await scep.certificateFor(CHALLENGE);
    const device = new DeviceEmulator({ baseUrl: url, topic: h.topic, identity });
    await device.enroll();
    const enrollment = await storage.findEnrollment(device.enrollmentId);
    expect(enrollment?.enrolled).toBe(true);
  });

  test('fail/a wrong challenge gets no certificate', async () => {
    const h = { daemon: { url }, topic: 'com.apple.mgmt.test' } as unknown as Harness;
    const scep = await scepEnroller(h);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rep = await scep.pkiOperation(privateKey, { challenge: 'wrong-challenge-value' });
    expect(rep.status).toBe('FAILURE');
  });
});
