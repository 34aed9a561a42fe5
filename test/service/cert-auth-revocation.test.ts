/**
 * Revocation in `withCertAuth`: device identities issued by the real CA (`createCa`, memory
 * store), devices emulated over real HTTP on 127.0.0.1. A certificate revoked with `ca.revoke()`
 * is refused with 400 `ERR_DEVICE_CERT_REVOKED` on every route, stores nothing, and a failing
 * revocation lookup is a 5xx, never 401.
 */
import { createMemoryCertificateStore } from '../../src/index.js';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCsr, parseCsr } from '../../src/crypto/csr.js';
import { StorageError } from '../../src/errors.js';
import { createNodeListener } from '../../src/http/node.js';
import { createCa, type CertificateAuthority } from '../../src/identity/ca/authority.js';
import { renewalTarget, withCertAuth, type RevocationSource } from '../../src/service/cert-auth.js';
import { createMdmCore, type MdmCore } from '../../src/service/core.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { MdmStorage } from '../../src/storage/ports.js';
import { DeviceEmulator, type EmulatorResponse } from '../support/device-emulator.js';
import type { TestIdentity } from '../support/device-pki.js';
import { makeCa } from '../support/pki.js';

const TOPIC = 'com.apple.mgmt.External.00000000-0000-4000-8000-0000000000aa';

interface Setup {
  url: string;
  ca: CertificateAuthority;
  storage: MdmStorage;
  core: MdmCore;
  server: Server;
  /** Serials asked of the revocation source, in order. */
  asked: string[];
  /** Replaces the revocation source's answer; default: ask the CA. */
  lookup: (serial: string) => boolean | Promise<boolean>;
}

/** A P-256 identity issued by `ca` through the CA's issuing path, recorded in its store. */
async function issue(ca: CertificateAuthority, issuedFor: string): Promise<TestIdentity> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csr = parseCsr(createCsr({ subject: 'CN=Orchard device,O=Orchard', privateKey }));
  const record = await ca.issue({ csr, enrollmentId: issuedFor });
  return { certificate: new X509Certificate(record.der), privateKey };
}

async function setup(): Promise<Setup> {
  const root = await makeCa({ subject: 'CN=Revocation Test CA,O=Orchard', keyType: 'ec-p256' });
  const ca = createCa({ material: root, store: createMemoryCertificateStore() });
  const storage = createMemoryStorage();
  const core = createMdmCore(
    { storage, push: { push: () => Promise.resolve([]) } },
    { topic: TOPIC },
  );
  const asked: string[] = [];
  const state = {
    lookup: (serial: string): boolean | Promise<boolean> => ca.isRevoked(serial),
  };
  const revocation: RevocationSource = {
    isRevoked: (serial) => {
      asked.push(serial);
      return state.lookup(serial);
    },
  };
  const service = withCertAuth(core, {
    store: storage,
    roots: [root.certificate],
    revocation,
    issuance: ca,
  });
  const server = createServer(createNodeListener(service));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return {
    url,
    ca,
    storage,
    core,
    server,
    asked,
    get lookup() {
      return state.lookup;
    },
    set lookup(f) {
      state.lookup = f;
    },
  };
}

async function enrolledDevice(s: Setup): Promise<DeviceEmulator> {
  const udid = randomUUID().toUpperCase();
  const identity = await issue(s.ca, udid);
  const dev = new DeviceEmulator({ baseUrl: s.url, identity, topic: TOPIC, keys: { UDID: udid } });
  await dev.enroll();
  return dev;
}

const codeOf = (res: EmulatorResponse): unknown =>
  (JSON.parse(res.body.toString()) as { code?: unknown }).code;

const routes: [string, (d: DeviceEmulator) => Promise<EmulatorResponse>][] = [
  ['Authenticate', (d) => d.authenticate()],
  ['TokenUpdate', (d) => d.tokenUpdate({ PushMagic: 'changed-after-revocation' })],
  ['CheckOut', (d) => d.checkin('CheckOut', { Topic: TOPIC })],
  ['UserAuthenticate', (d) => d.user('macos').checkin('UserAuthenticate')],
  [
    'SetBootstrapToken',
    (d) => d.checkin('SetBootstrapToken', { BootstrapToken: Buffer.from('x') }),
  ],
  ['GetBootstrapToken', (d) => d.checkin('GetBootstrapToken')],
  ['GetToken', (d) => d.checkin('GetToken', { TokenServiceType: 'com.apple.maid' })],
  ['DeclarativeManagement', (d) => d.checkin('DeclarativeManagement', { Endpoint: 'tokens' })],
  ['newer check-in', (d) => d.checkin('FutureMessage')],
  ['Idle', (d) => d.idle()],
  ['Acknowledged', (d) => d.answer('5BC5C0E8-0000-4000-8000-000000000000', 'Acknowledged')],
];

describe('withCertAuth with a revocation source', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => {
    s.server.closeAllConnections();
    await new Promise((resolve) => s.server.close(resolve));
    await s.core.close();
  });

  test('ok/an enrolled device is served, and its serial is asked in normalised hex', async () => {
    const dev = await enrolledDevice(s);
    s.asked.length = 0;
    expect((await dev.idle()).status).toBe(200);
    const serial = dev.options.identity.certificate.serialNumber.toLowerCase().replace(/^0+/, '');
    expect(s.asked).toEqual([serial]);
  });

  test('fail/revoked serial: next Idle is 400 ERR_DEVICE_CERT_REVOKED; others still served', async () => {
    const dev = await enrolledDevice(s);
    const other = await enrolledDevice(s);
    expect((await dev.idle()).status).toBe(200);
    await s.ca.revoke(dev.options.identity.certificate.serialNumber, 'device lost');
    const res = await dev.idle();
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('ERR_DEVICE_CERT_REVOKED');
    expect((await other.idle()).status).toBe(200);
  });

  test.each(routes)('fail/%s with a revoked certificate is 400, never 401', async (_r, send) => {
    const dev = await enrolledDevice(s);
    await s.ca.revoke(dev.options.identity.certificate.serialNumber);
    const res = await send(dev);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('ERR_DEVICE_CERT_REVOKED');
  });

  test('fail/nothing is stored for a revoked device (TokenUpdate, CheckOut)', async () => {
    const dev = await enrolledDevice(s);
    // Last-seen times are written behind (1 s); settle them so the snapshot is stable.
    await s.core.flush();
    const before = await s.storage.findEnrollment(dev.enrollmentId);
    expect(before?.enrolled).toBe(true);
    await s.ca.revoke(dev.options.identity.certificate.serialNumber);
    expect((await dev.tokenUpdate({ PushMagic: 'stolen-magic' })).status).toBe(400);
    expect((await dev.checkin('CheckOut', { Topic: TOPIC })).status).toBe(400);
    await s.core.flush();
    const after = await s.storage.findEnrollment(dev.enrollmentId);
    expect(after).toEqual(before);
  });

  test('fail/a revoked certificate is not accepted as a renewal and is not re-bound', async () => {
    const dev = await enrolledDevice(s);
    // Issued for this enrollment's identity renewal, then revoked before it was used.
    const renewed = await issue(s.ca, renewalTarget(dev.enrollmentId));
    await s.ca.revoke(renewed.certificate.serialNumber, 'superseded');
    const viaRevoked = new DeviceEmulator({ ...dev.options, identity: renewed, keys: dev.keys });
    const res = await viaRevoked.idle();
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('ERR_DEVICE_CERT_REVOKED');
    // The binding still names the original certificate, which keeps working.
    expect((await dev.idle()).status).toBe(200);
  });

  test('ok/a renewal certificate that is not revoked is still accepted', async () => {
    const dev = await enrolledDevice(s);
    const renewed = await issue(s.ca, renewalTarget(dev.enrollmentId));
    const viaRenewed = new DeviceEmulator({ ...dev.options, identity: renewed, keys: dev.keys });
    expect((await viaRenewed.idle()).status).toBe(200);
  });

  test.each([
    ['StorageError', () => new StorageError('revocation table unreachable')],
    ['plain Error', () => new Error('boom at /secret/path')],
    ['TypeError', () => new TypeError('bad serial')],
  ] as const)('fail/lookup throwing %s answers 503 on every route, never 401', async (_n, make) => {
    const dev = await enrolledDevice(s);
    // Last-seen times are written behind (1 s); settle them so the snapshot is stable.
    await s.core.flush();
    const before = await s.storage.findEnrollment(dev.enrollmentId);
    s.lookup = () => Promise.reject(make());
    try {
      for (const [, send] of routes) {
        const res = await send(dev);
        expect(res.status).toBe(503);
        expect(codeOf(res)).toBe('ERR_STORAGE');
        expect(res.body.toString()).not.toMatch(/secret|unreachable|bad serial/);
      }
    } finally {
      s.lookup = (serial) => s.ca.isRevoked(serial);
    }
    expect(await s.storage.findEnrollment(dev.enrollmentId)).toEqual(before);
    expect((await dev.idle()).status).toBe(200);
  });

  test('fail/a synchronous true from isRevoked refuses, a synchronous false serves', async () => {
    const dev = await enrolledDevice(s);
    try {
      s.lookup = () => true;
      expect(codeOf(await dev.idle())).toBe('ERR_DEVICE_CERT_REVOKED');
      s.lookup = () => false;
      expect((await dev.idle()).status).toBe(200);
    } finally {
      s.lookup = (serial) => s.ca.isRevoked(serial);
    }
  });

  test('fail/a synchronous throw from isRevoked is a 503 as well', async () => {
    const dev = await enrolledDevice(s);
    s.lookup = () => {
      throw new Error('sync failure');
    };
    try {
      expect((await dev.idle()).status).toBe(503);
    } finally {
      s.lookup = (serial) => s.ca.isRevoked(serial);
    }
  });
});

describe('withCertAuth revocation option', () => {
  test('fail/a revocation source without isRevoked is a TypeError', async () => {
    const root = await makeCa({ keyType: 'ec-p256' });
    const core = createMdmCore({ storage: createMemoryStorage() }, { topic: TOPIC });
    const bad = { revocation: {} as RevocationSource };
    expect(() =>
      withCertAuth(core, { store: createMemoryStorage(), roots: [root.certificate], ...bad }),
    ).toThrow(TypeError);
    await core.close();
  });
});
