/**
 * One-time ClientIdentifiers end to end over HTTP on 127.0.0.1: a value issued for a profile
 * download orders a certificate once, through device-attest-01 with the test attestation CA; the
 * attested device must be the one the download named; the issued ECDSA identity then
 * authenticates to the MDM core as the attested device, and is refused (400, never 401) as any
 * other device. A Mac (attested ProvisioningUDID ≠ MDM UDID) passes by its serial.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAppleAttestationVerifier } from '../../src/acme/attestation.js';
import {
  createAcmeClientIdentifiers,
  type AcmeClientIdentifiers,
} from '../../src/acme/client-identifiers.js';
import { createMemoryAcmeClientIdStore } from '../../src/storage/memory/acme-identifiers.js';
import { createAcmeServer } from '../../src/acme/server.js';
import { createCsr } from '../../src/crypto/csr.js';
import { acmeRoute } from '../../src/http/acme.js';
import { createEdgeListener, createNodeListener } from '../../src/http/node.js';
import { createCa, type CertificateAuthority } from '../../src/identity/ca/authority.js';
import { createMemoryCertificateStore } from '../../src/index.js';
import { withAttestedIdentity } from '../../src/service/attested-identity.js';
import { withCertAuth } from '../../src/service/cert-auth.js';
import { createMdmCore, type MdmCore } from '../../src/service/core.js';
import { createMemoryAcmeStore } from '../../src/storage/memory/acme.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { capturedLogger } from './fixture.js';
import { acmeTestClient } from '../support/acme-client.js';
import { attestationCa, type AttestationCa } from '../support/attestation-ca.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { makeCa } from '../support/pki.js';

const TOPIC = 'com.apple.mgmt.External.00000000-0000-4000-8000-0000000000a1';
const ERR = 'urn:ietf:params:acme:error:';

let attCa: AttestationCa;
let ca: CertificateAuthority;
let ids: AcmeClientIdentifiers;
let acmeServer: Server;
let mdmServer: Server;
let core: MdmCore;
let directoryUrl = '';
let mdmUrl = '';
const knownSerials = new Map<string, string>();

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
};

beforeAll(async () => {
  attCa = await attestationCa();
  const root = await makeCa({ subject: 'CN=ACME identity CA,O=Orchard', keyType: 'rsa-2048' });
  ca = createCa({ material: root, store: createMemoryCertificateStore() });
  ids = createAcmeClientIdentifiers({ store: createMemoryAcmeClientIdStore() });
  const verify = createAppleAttestationVerifier({ checkIdentifier: ids.checkAttested });
  let base = '';
  const acme = createAcmeServer(
    {
      store: createMemoryAcmeStore(),
      ca,
      authorizeIdentifier: ids.authorize,
      verifyAttestation: verify,
      attestationRoots: [attCa.root.certificate],
      useIdentifiers: (o) => ids.use(o),
      onIssued: (e) => ids.onIssued(e),
    },
    { baseUrl: () => base },
  );
  acmeServer = createServer(
    createEdgeListener({ routes: [acmeRoute(acme)], logger: capturedLogger() }),
  );
  base = `${await listen(acmeServer)}/acme`;
  directoryUrl = `${base}/directory`;
  const storage = createMemoryStorage();
  core = createMdmCore({ storage, push: { push: () => Promise.resolve([]) } }, { topic: TOPIC });
  const attested = withAttestedIdentity(core, {
    attestedDeviceOf: (serial) => ids.attestedDeviceOf(serial),
    knownSerialOf: (udid) => Promise.resolve(knownSerials.get(udid)),
  });
  const service = withCertAuth(attested, {
    store: storage,
    roots: [root.certificate],
    issuance: ca,
  });
  mdmServer = createServer(createNodeListener(service));
  mdmUrl = await listen(mdmServer);
});

afterAll(async () => {
  for (const s of [acmeServer, mdmServer]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await core.close();
});

interface Device {
  key: KeyObject;
  udid: string;
  serial: string;
}

const newDevice = (serial = 'EMU0001'): Device => ({
  key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  udid: randomUUID().toUpperCase(),
  serial,
});

/** Runs the device's ACME flow for `clientId`; resolves the certificate or the failed response. */
async function enrollAcme(dev: Device, clientId: string, attested = { udid: dev.udid }) {
  const client = await acmeTestClient(directoryUrl);
  await client.newAccount();
  const order = await client.newOrder(clientId);
  if (order.status !== 201) return { order };
  const authz = await client.post((order.json.authorizations as string[])[0] ?? '', '');
  const chall = (authz.json.challenges as { url: string; token: string }[])[0] ?? {
    url: '',
    token: '',
  };
  const attObj = await attCa.attest({
    key: dev.key,
    token: chall.token,
    serial: dev.serial,
    ...attested,
  });
  const answered = await client.post(chall.url, { attObj: attObj.toString('base64url') });
  if (answered.json.status !== 'valid') return { order, answered };
  const orderUrl = order.headers.get('location') ?? '';
  const fin = (await client.post(orderUrl, '')).json.finalize as string;
  const csr = createCsr({ subject: 'CN=acme-device,O=Orchard', privateKey: dev.key });
  const done = await client.post(fin, { csr: csr.toString('base64url') });
  const pem = await client.post(done.json.certificate as string, '');
  const certificate = new X509Certificate(
    pem.text.split(/(?<=-----END CERTIFICATE-----\n)/)[0] ?? '',
  );
  return { order, answered, certificate, client };
}

function emulator(dev: Device, certificate: X509Certificate, udid = dev.udid): DeviceEmulator {
  return new DeviceEmulator({
    baseUrl: mdmUrl,
    identity: { certificate, privateKey: dev.key },
    topic: TOPIC,
    keys: { UDID: udid },
  });
}

describe('one-time ClientIdentifiers', () => {
  test('ok/a value issued for a download orders once; the identity checks in as the attested device', async () => {
    const dev = newDevice();
    const value = await ids.issue({
      enrollmentId: 'enrollment-token:link-1',
      expectedUdid: dev.udid,
    });
    expect(value).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const { certificate } = await enrollAcme(dev, value);
    expect(certificate).toBeDefined();
    const serial = (certificate as X509Certificate).serialNumber;
    expect(await ids.attestedDeviceOf(serial)).toEqual({ udid: dev.udid, serial: dev.serial });
    const record = await ca.findIssuedCertificate(serial.toLowerCase().replace(/^0+/, ''));
    expect(record?.enrollmentId).toBe('enrollment-token:link-1');
    const device = emulator(dev, certificate as X509Certificate);
    await device.enroll();
    expect((await device.idle()).status).toBe(200);
    // Used up: the same value orders nothing more.
    const again = await enrollAcme(newDevice(), value);
    expect(again.order.json.type).toBe(`${ERR}rejectedIdentifier`);
  });

  test('fail/a value never issued, or ordered by a second account: rejectedIdentifier', async () => {
    const never = await enrollAcme(newDevice(), 'AAAAAAAAAAAAAAAAAAAAAA');
    expect(never.order.json.type).toBe(`${ERR}rejectedIdentifier`);
    const value = await ids.issue({ enrollmentId: 'enrollment-token:link-2' });
    const first = await acmeTestClient(directoryUrl);
    await first.newAccount();
    expect((await first.newOrder(value)).status).toBe(201);
    expect((await first.newOrder(value)).status).toBe(201); // the device may retry
    const second = await enrollAcme(newDevice(), value);
    expect(second.order.json.type).toBe(`${ERR}rejectedIdentifier`);
  });

  test('fail/two orders of one account for one value both reaching finalize: only the first issues', async () => {
    const dev = newDevice();
    const value = await ids.issue({ enrollmentId: 'enrollment-token:link-6' });
    const client = await acmeTestClient(directoryUrl);
    await client.newAccount();
    /** Orders `value` and answers its challenge; resolves the order URL and finalize URL. */
    const ready = async () => {
      const order = await client.newOrder(value);
      expect(order.status).toBe(201);
      const authz = await client.post((order.json.authorizations as string[])[0] ?? '', '');
      const chall = (authz.json.challenges as { url: string; token: string }[])[0];
      const attObj = await attCa.attest({
        key: dev.key,
        token: chall?.token ?? '',
        serial: dev.serial,
        udid: dev.udid,
      });
      const answered = await client.post(chall?.url ?? '', {
        attObj: attObj.toString('base64url'),
      });
      expect(answered.json.status).toBe('valid');
      const url = order.headers.get('location') ?? '';
      return { url, finalize: (await client.post(url, '')).json.finalize as string };
    };
    const first = await ready();
    const second = await ready();
    const csr = createCsr({ subject: 'CN=acme-device,O=Orchard', privateKey: dev.key });
    const one = await client.post(first.finalize, { csr: csr.toString('base64url') });
    expect(one.json.status).toBe('valid');
    const two = await client.post(second.finalize, { csr: csr.toString('base64url') });
    expect(two.json.type).toBe(`${ERR}rejectedIdentifier`);
    expect((await client.post(second.url, '')).json.status).toBe('invalid');
  });

  test('fail/an attestation of another device than the download named: badAttestationStatement', async () => {
    const dev = newDevice();
    const value = await ids.issue({
      enrollmentId: 'enrollment-token:link-3',
      expectedUdid: dev.udid,
    });
    const { answered } = await enrollAcme(dev, value, { udid: 'SOME-OTHER-UDID' });
    expect(answered?.json).toMatchObject({
      status: 'invalid',
      error: { type: `${ERR}badAttestationStatement` },
    });
  });

  test("fail/an ACME identity attested for device X authenticating as device Y: 400, never 401; X's stays served", async () => {
    const x = newDevice();
    const value = await ids.issue({ enrollmentId: 'enrollment-token:link-4' });
    const { certificate } = await enrollAcme(x, value);
    const y = emulator(x, certificate as X509Certificate, randomUUID().toUpperCase());
    const res = await y.authenticate({ SerialNumber: 'OTHER-SERIAL' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString())).toMatchObject({
      code: 'ERR_CERT_BINDING',
      message: expect.stringMatching(/attested for another device/) as unknown,
    });
    // Nothing was bound: the real device enrolls with the same identity afterwards.
    const real = emulator(x, certificate as X509Certificate);
    await real.enroll();
    expect((await real.idle()).status).toBe(200);
    expect((await y.idle()).status).toBe(400);
  });

  test('ok/a Mac attesting its ProvisioningUDID passes by serial; fail/a serial Orchard knows otherwise', async () => {
    const mac = newDevice('C02MAC0001');
    const value = await ids.issue({ enrollmentId: 'enrollment-token:link-5' });
    const { certificate } = await enrollAcme(mac, value, { udid: 'PROVISIONING-UDID-1' });
    const device = emulator(mac, certificate as X509Certificate);
    knownSerials.set(mac.udid, 'C02OTHER99');
    expect((await device.authenticate({ SerialNumber: 'C02MAC0001' })).status).toBe(400);
    knownSerials.set(mac.udid, 'C02MAC0001');
    expect((await device.authenticate({ SerialNumber: 'C02MAC0001' })).status).toBe(200);
    const impostor = emulator(mac, certificate as X509Certificate, randomUUID().toUpperCase());
    expect((await impostor.authenticate({ SerialNumber: 'EMU0001' })).status).toBe(400);
  });
});
