/**
 * ACME enrollment through `createOrchardServices` and `orchardRoutes` (real HTTP on 127.0.0.1,
 * memory stores): the `enrollment` page's `identity` setting, inherited and overridden like every
 * page, decides per download whether a link's profile carries the ACME payload (with a one-time
 * ClientIdentifier) or SCEP, by the requesting device's platform and OS version; the device then
 * orders through device-attest-01 with that value, checks in with its ECDSA identity, and the
 * same identity presented as another device is refused with 400, never 401.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAppleAttestationVerifier } from '../../src/acme/attestation.js';
import { createAcmeClientIdentifiers } from '../../src/acme/client-identifiers.js';
import { createAcmeServer } from '../../src/acme/server.js';
import { mintTokenSecret } from '../../src/admin/enrollment-links.js';
import { createCsr } from '../../src/crypto/csr.js';
import { createEdgeListener } from '../../src/http/node.js';
import { silentLogger } from '../../src/index.js';
import {
  ACME_MINIMUM_OS,
  chooseEnrollmentIdentity,
  deviceOsFromUserAgent,
} from '../../src/management/enrollment-identity.js';
import { verifyProfile } from '../../src/profile/verify.js';
import type { PlistDict } from '../../src/protocol/plist.js';
import {
  createOrchardServices,
  orchardRoutes,
  type OrchardPush,
  type OrchardServices,
} from '../../src/server/index.js';
import { createMemoryAcmeClientIdStore } from '../../src/storage/memory/acme-identifiers.js';
import {
  createMemoryAcmeStore,
  createMemoryAdminStorage,
  createMemoryCaStorage,
  createMemoryStorage,
} from '../../src/storage/memory/index.js';
import { ManagementError } from '../../src/errors.js';
import { acmeTestClient } from '../support/acme-client.js';
import { attestationCa, type AttestationCa } from '../support/attestation-ca.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { makeCa, makeLeaf } from '../support/pki.js';

const TOPIC = 'com.apple.mgmt.External.00000000-0000-4000-8000-0000000000c2';
const IPHONE_17 =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const IPHONE_15 =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1';
const IPAD_16 =
  'Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1';
const MAC_SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';

const storage = createMemoryStorage();
const admin = createMemoryAdminStorage();
const caStorage = createMemoryCaStorage();
let services: OrchardServices;
let server: Server;
let url = '';
let attCa: AttestationCa;

const push: OrchardPush = {
  topic: TOPIC,
  push: () => Promise.resolve([]),
  health: () => ({
    ...{ topic: TOPIC, notAfter: new Date('2030-01-01T00:00:00Z'), daysLeft: 1000 },
    ...{ expired: false, circuit: 'closed', connections: 0, inFlight: 0, queued: 0 },
  }),
  close: () => Promise.resolve(),
};

beforeAll(async () => {
  attCa = await attestationCa();
  const ca = await makeCa();
  const signing = await makeLeaf(ca, { subject: 'CN=Signing' });
  const clock = () => new Date();
  const acmeIdentifiers = createAcmeClientIdentifiers({ store: createMemoryAcmeClientIdStore() });
  services = createOrchardServices(
    {
      ...{ storage, admin, ca: caStorage, push, clock, acmeIdentifiers },
      pki: { ca, signing: { ...signing, chain: [ca.certificate] } },
      logger: silentLogger,
    },
    { publicUrl: () => url },
  );
  const hooks = services.acmeEnrollment?.serverHooks;
  if (hooks === undefined) throw new Error('no ACME enrollment');
  const { checkIdentifier, ...serverHooks } = hooks;
  const acme = createAcmeServer(
    {
      ...{ store: createMemoryAcmeStore(), ca: services.ca, ...serverHooks },
      verifyAttestation: createAppleAttestationVerifier({ checkIdentifier }),
      attestationRoots: [attCa.root.certificate],
    },
    { baseUrl: () => `${url}/acme` },
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

/** A new link (of `groupId` when given); resolves its secret and id. */
async function newLink(groupId?: string, singleUse = false) {
  const { secret, hash } = mintTokenSecret();
  const record = await admin.createEnrollmentToken({
    hash,
    singleUse,
    ...(groupId === undefined ? {} : { groupId }),
  });
  return { secret, id: record.id };
}

/** Downloads the link's profile with `userAgent`; resolves its identity payload. */
async function download(secret: string, userAgent?: string): Promise<PlistDict> {
  const res = await fetch(`${url}/enroll/${secret}`, {
    headers: userAgent === undefined ? {} : { 'user-agent': userAgent },
  });
  expect(res.status).toBe(200);
  const { profile } = verifyProfile(Buffer.from(await res.arrayBuffer()), {
    roots: [services.ca.certificate],
  });
  const content = profile.PayloadContent as PlistDict[];
  const identity = content.find((p) =>
    ['com.apple.security.scep', 'com.apple.security.acme'].includes(p.PayloadType as string),
  );
  expect(identity).toBeDefined();
  return identity as PlistDict;
}

const setIdentity = (groupId: string, identity: string) =>
  services.groups.writeSettings(groupId, 'enrollment', {
    currentSetting: 'override',
    values: { identity },
  });

describe('the enrollment page: identity', () => {
  test('ok/default scep; a child inherits acme-where-supported from the root; its override wins; inherit again', async () => {
    expect((await services.groups.effectiveSettings('global', 'enrollment')).values.identity).toBe(
      'scep',
    );
    const child = (await services.groups.createGroup({ name: 'Kiosks', parentId: 'global' })).group
      .id;
    await setIdentity('global', 'acme-where-supported');
    const inherited = await services.groups.effectiveSettings(child, 'enrollment');
    expect([inherited.values.identity, inherited.sourceGroupId]).toEqual([
      'acme-where-supported',
      'global',
    ]);
    await setIdentity(child, 'acme');
    expect((await services.groups.effectiveSettings(child, 'enrollment')).values.identity).toBe(
      'acme',
    );
    await services.groups.writeSettings(child, 'enrollment', { currentSetting: 'inherit' });
    expect((await services.groups.effectiveSettings(child, 'enrollment')).values.identity).toBe(
      'acme-where-supported',
    );
    await setIdentity('global', 'scep');
  });

  test('fail/an identity outside scep, acme, acme-where-supported is refused naming the field', async () => {
    await expect(setIdentity('global', 'ota')).rejects.toBeInstanceOf(ManagementError);
    expect((await services.groups.effectiveSettings('global', 'enrollment')).values.identity).toBe(
      'scep',
    );
  });

  test('ok/the platform table and the User-Agents: unknown and old are SCEP under acme-where-supported', () => {
    expect(ACME_MINIMUM_OS).toEqual({
      iOS: [16, 0],
      iPadOS: [16, 0],
      tvOS: [16, 0],
      macOS: [14, 0],
    });
    const cases: [string | undefined, 'scep' | 'acme'][] = [
      [IPHONE_17, 'acme'],
      [IPAD_16, 'acme'],
      [IPHONE_15, 'scep'],
      [MAC_SAFARI, 'scep'],
      ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)', 'acme'],
      ['AppleTV11,1/tvOS 17.0', 'acme'],
      ['AppleTV6,2/tvOS 15.4', 'scep'],
      ['curl/8.0', 'scep'],
      [undefined, 'scep'],
    ];
    for (const [ua, want] of cases)
      expect([
        ua,
        chooseEnrollmentIdentity('acme-where-supported', deviceOsFromUserAgent(ua)),
      ]).toEqual([ua, want]);
    expect(chooseEnrollmentIdentity('acme', undefined)).toBe('acme');
    expect(chooseEnrollmentIdentity('scep', deviceOsFromUserAgent(IPHONE_17))).toBe('scep');
  });
});

describe('link downloads', () => {
  test('ok/scep everywhere by default; acme-where-supported gives ACME to iOS 17 only; a group override decides its links', async () => {
    const root = await newLink();
    expect((await download(root.secret, IPHONE_17)).PayloadType).toBe('com.apple.security.scep');
    await setIdentity('global', 'acme-where-supported');
    const acme = await download(root.secret, IPHONE_17);
    expect(acme).toMatchObject({
      PayloadType: 'com.apple.security.acme',
      DirectoryURL: `${url}/acme/directory`,
      KeyType: 'ECSECPrimeRandom',
      KeySize: 256,
      HardwareBound: true,
      Attest: true,
    });
    expect(acme.ClientIdentifier).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const again = await download(root.secret, IPHONE_17);
    expect(again.ClientIdentifier).not.toBe(acme.ClientIdentifier);
    for (const ua of [IPHONE_15, MAC_SAFARI, undefined])
      expect((await download(root.secret, ua)).PayloadType).toBe('com.apple.security.scep');
    const group = (await services.groups.createGroup({ name: 'Legacy', parentId: 'global' })).group
      .id;
    const legacy = await newLink(group);
    await setIdentity(group, 'scep');
    expect((await download(legacy.secret, IPHONE_17)).PayloadType).toBe('com.apple.security.scep');
    await setIdentity(group, 'acme');
    expect((await download(legacy.secret, MAC_SAFARI)).PayloadType).toBe('com.apple.security.acme');
    await setIdentity('global', 'scep');
  });
});

interface Device {
  key: KeyObject;
  udid: string;
  serial: string;
}

/** Orders with `clientId` through device-attest-01 as `dev`; resolves the certificate. */
async function enrollAcme(dev: Device, clientId: string): Promise<X509Certificate> {
  const client = await acmeTestClient(`${url}/acme/directory`);
  await client.newAccount();
  const order = await client.newOrder(clientId);
  expect(order.status).toBe(201);
  const authz = await client.post((order.json.authorizations as string[])[0] ?? '', '');
  const chall = (authz.json.challenges as { type: string; url: string; token: string }[]).find(
    (c) => c.type === 'device-attest-01',
  );
  const attObj = await attCa.attest({
    key: dev.key,
    token: chall?.token ?? '',
    serial: dev.serial,
    udid: dev.udid,
  });
  const answered = await client.post(chall?.url ?? '', { attObj: attObj.toString('base64url') });
  expect(answered.json.status).toBe('valid');
  const orderUrl = order.headers.get('location') ?? '';
  const fin = (await client.post(orderUrl, '')).json.finalize as string;
  const csr = createCsr({ subject: 'CN=acme-device,O=Orchard', privateKey: dev.key });
  const done = await client.post(fin, { csr: csr.toString('base64url') });
  expect(done.json.status).toBe('valid');
  const pem = await client.post(done.json.certificate as string, '');
  return new X509Certificate(pem.text.split(/(?<=-----END CERTIFICATE-----\n)/)[0] ?? '');
}

describe('the MDM core behind orchardRoutes', () => {
  test('fail/an ACME identity attested for device X authenticating as device Y: 400, never 401; X checks in; the single-use link is spent', async () => {
    await setIdentity('global', 'acme');
    const link = await newLink(undefined, true);
    const value = (await download(link.secret, IPHONE_17)).ClientIdentifier as string;
    const x: Device = {
      key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      udid: randomUUID().toUpperCase(),
      serial: 'XSERIAL001',
    };
    const certificate = await enrollAcme(x, value);
    expect(certificate.checkIssued(services.ca.certificate)).toBe(true);
    expect((await admin.findEnrollmentToken(link.id))?.enrollments).toBe(1);

    const asY = (udid: string) =>
      new DeviceEmulator({
        baseUrl: url,
        topic: TOPIC,
        identity: { certificate, privateKey: x.key },
        keys: { UDID: udid },
      });
    const yUdid = randomUUID().toUpperCase();
    const y = asY(yUdid);
    const refused = await y.authenticate({ SerialNumber: 'YSERIAL002' });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'ERR_CERT_BINDING' });
    expect(await storage.findEnrollment(yUdid)).toBeUndefined();

    const real = asY(x.udid);
    await real.enroll();
    expect((await real.idle()).status).toBe(200);
    const again = await y.idle();
    expect(again.status).toBe(400);
    expect(again.status).not.toBe(401);
    await setIdentity('global', 'scep');
  });
});
