/**
 * The MDM core with ECDSA device identities, as ACME's hardware-bound keys give: P-256 and P-384
 * identities issued from a CSR by Orchard's CA (an RSA root, as ACME's fixture uses, and an EC
 * root), `Mdm-Signature` with SHA-256 and SHA-384, over real HTTP on 127.0.0.1 through
 * `withCertAuth`. Refusals: an altered ECDSA signature, a signature by another key than the
 * certificate's, and an ECDSA identity bound to device A presenting device B's UDID; each a 4xx,
 * never 401.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signCms } from '../../src/crypto/index.js';
import { createCsr, parseCsr } from '../../src/crypto/csr.js';
import { createNodeListener } from '../../src/http/node.js';
import { createCa, type CertificateAuthority } from '../../src/identity/ca/authority.js';
import { createMemoryCertificateStore } from '../../src/index.js';
import { withCertAuth } from '../../src/service/cert-auth.js';
import { createMdmCore, type MdmCore } from '../../src/service/core.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import type { TestIdentity } from '../support/device-pki.js';
import { makeCa } from '../support/pki.js';

const TOPIC = 'com.apple.mgmt.External.00000000-0000-4000-8000-0000000000ec';

interface Setup {
  url: string;
  ca: CertificateAuthority;
  core: MdmCore;
  server: Server;
}

async function setup(keyType: 'rsa-2048' | 'ec-p384'): Promise<Setup> {
  const root = await makeCa({ subject: `CN=ECDSA identity CA ${keyType},O=Orchard`, keyType });
  const ca = createCa({ material: root, store: createMemoryCertificateStore() });
  const storage = createMemoryStorage();
  const core = createMdmCore(
    { storage, push: { push: () => Promise.resolve([]) } },
    { topic: TOPIC },
  );
  const service = withCertAuth(core, { store: storage, roots: [root.certificate], issuance: ca });
  const server = createServer(createNodeListener(service));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return { url, ca, core, server };
}

async function close(s: Setup): Promise<void> {
  s.server.closeAllConnections();
  await new Promise((resolve) => s.server.close(resolve));
  await s.core.close();
}

/** An EC identity issued from a CSR, as ACME's finalize issues it. */
async function issue(s: Setup, curve: 'P-256' | 'P-384', udid: string): Promise<TestIdentity> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const csr = parseCsr(createCsr({ subject: 'CN=acme-device,O=Orchard', privateKey }));
  const record = await s.ca.issue({ csr, enrollmentId: `enrollment-token:${udid}` });
  return { certificate: new X509Certificate(record.der), privateKey };
}

function signature(body: Uint8Array, id: TestIdentity, digest: 'sha256' | 'sha384'): string {
  return signCms(body, {
    certificate: id.certificate,
    privateKey: id.privateKey,
    detached: true,
    digest,
  }).toString('base64');
}

/** Sends Idle with a Mdm-Signature made by `signer` (default the device's identity). */
async function idleSignedBy(
  dev: DeviceEmulator,
  digest: 'sha256' | 'sha384',
  signer: { certificate: X509Certificate; privateKey: KeyObject } = dev.options.identity,
) {
  const body = dev.build({ Status: 'Idle' });
  return dev.send('/mdm', body, {
    'content-type': 'application/x-apple-aspen-mdm',
    'mdm-signature': signature(body, signer, digest),
  });
}

describe.each(['rsa-2048', 'ec-p384'] as const)('ECDSA identities from a %s CA', (caKey) => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup(caKey);
  });
  afterAll(async () => {
    await close(s);
  });

  test.each([
    ['P-256', 'sha256'],
    ['P-384', 'sha256'],
    ['P-384', 'sha384'],
    ['P-256', 'sha384'],
  ] as const)(
    'ok/a %s identity enrolls and checks in (Mdm-Signature %s)',
    async (curve, digest) => {
      const udid = randomUUID().toUpperCase();
      const identity = await issue(s, curve, udid);
      const dev = new DeviceEmulator({
        baseUrl: s.url,
        identity,
        topic: TOPIC,
        keys: { UDID: udid },
      });
      await dev.enroll();
      const res = await idleSignedBy(dev, digest);
      expect(res.status).toBe(200);
    },
  );

  test('fail/an ECDSA signature altered by one byte, or made by another key: refused, not 401', async () => {
    const udid = randomUUID().toUpperCase();
    const identity = await issue(s, 'P-384', udid);
    const dev = new DeviceEmulator({
      baseUrl: s.url,
      identity,
      topic: TOPIC,
      keys: { UDID: udid },
    });
    await dev.enroll();
    const body = dev.build({ Status: 'Idle' });
    const der = Buffer.from(signature(body, identity, 'sha384'), 'base64');
    der[der.length - 3] = (der[der.length - 3] ?? 0) ^ 0x01;
    const altered = await dev.send('/mdm', body, {
      'content-type': 'application/x-apple-aspen-mdm',
      'mdm-signature': der.toString('base64'),
    });
    expect(altered.status).toBeGreaterThanOrEqual(400);
    expect(altered.status).toBeLessThan(500);
    expect(altered.status).not.toBe(401);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const forged = await idleSignedBy(dev, 'sha384', {
      certificate: identity.certificate,
      privateKey: otherKey,
    });
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(forged.status).toBeLessThan(500);
    expect(forged.status).not.toBe(401);
    expect((await idleSignedBy(dev, 'sha384')).status).toBe(200);
  });

  test("fail/device A's ECDSA identity presenting device B's UDID: refused, never 401", async () => {
    const udidA = randomUUID().toUpperCase();
    const udidB = randomUUID().toUpperCase();
    const a = new DeviceEmulator({
      baseUrl: s.url,
      identity: await issue(s, 'P-256', udidA),
      topic: TOPIC,
      keys: { UDID: udidA },
    });
    const b = new DeviceEmulator({
      baseUrl: s.url,
      identity: await issue(s, 'P-256', udidB),
      topic: TOPIC,
      keys: { UDID: udidB },
    });
    await a.enroll();
    await b.enroll();
    const impostor = new DeviceEmulator({
      baseUrl: s.url,
      identity: a.options.identity,
      topic: TOPIC,
      keys: { UDID: udidB },
    });
    for (const res of [await impostor.idle(), await impostor.authenticate()]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.status).not.toBe(401);
    }
    expect((await b.idle()).status).toBe(200);
  });
});
