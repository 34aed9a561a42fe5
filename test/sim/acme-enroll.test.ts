/**
 * The simulator enrolls through ACME: it reads the ACME payload of an enrollment profile built
 * by Orchard, orders with the one-time ClientIdentifier, answers device-attest-01 with an
 * attestation of its P-256 key from a test attestation CA the server trusts, gets its
 * certificate, and checks in with that ECDSA identity (Mdm-Signature) to the MDM core behind
 * `withCertAuth` and the attested-identity check, over real HTTP on 127.0.0.1. An attestation
 * from an untrusted CA is refused at the challenge.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildEnrollmentProfile } from '../../src/admin/enrollment-profile.js';
import { createAppleAttestationVerifier } from '../../src/acme/attestation.js';
import {
  createAcmeClientIdentifiers,
  type AcmeClientIdentifiers,
} from '../../src/acme/client-identifiers.js';
import { createMemoryAcmeClientIdStore } from '../../src/storage/memory/acme-identifiers.js';
import { createAcmeServer } from '../../src/acme/server.js';
import { acmeRoute } from '../../src/http/acme.js';
import { createEdgeListener, createNodeListener } from '../../src/http/node.js';
import { createCa } from '../../src/identity/ca/authority.js';
import { createMemoryCertificateStore } from '../../src/index.js';
import type { PlistDict } from '../../src/protocol/plist.js';
import { withAttestedIdentity } from '../../src/service/attested-identity.js';
import { withCertAuth } from '../../src/service/cert-auth.js';
import { createMdmCore, type MdmCore } from '../../src/service/core.js';
import { acmeEnroll, type SimAcmePayload } from '../../src/sim/acme-enroll.js';
import { createMemoryAcmeStore } from '../../src/storage/memory/acme.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { capturedLogger } from '../acme/fixture.js';
import { attestationCa, type AttestationCa } from '../support/attestation-ca.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { makeCa } from '../support/pki.js';

const TOPIC = 'com.apple.mgmt.External.00000000-0000-4000-8000-0000000000a5';

let trusted: AttestationCa;
let untrusted: AttestationCa;
let ids: AcmeClientIdentifiers;
let server: Server;
let core: MdmCore;
let publicUrl = '';
let caCert: Awaited<ReturnType<typeof makeCa>>;

beforeAll(async () => {
  [trusted, untrusted] = await Promise.all([attestationCa(), attestationCa()]);
  caCert = await makeCa({ subject: 'CN=Sim ACME CA,O=Orchard', keyType: 'ec-p384' });
  const ca = createCa({ material: caCert, store: createMemoryCertificateStore() });
  ids = createAcmeClientIdentifiers({ store: createMemoryAcmeClientIdStore() });
  const acme = createAcmeServer(
    {
      store: createMemoryAcmeStore(),
      ca,
      authorizeIdentifier: ids.authorize,
      verifyAttestation: createAppleAttestationVerifier({ checkIdentifier: ids.checkAttested }),
      attestationRoots: [trusted.root.certificate],
      useIdentifiers: (o) => ids.use(o),
      onIssued: (e) => ids.onIssued(e),
    },
    { baseUrl: () => `${publicUrl}/acme` },
  );
  const storage = createMemoryStorage();
  core = createMdmCore({ storage, push: { push: () => Promise.resolve([]) } }, { topic: TOPIC });
  const mdm = createNodeListener(
    withCertAuth(
      withAttestedIdentity(core, { attestedDeviceOf: (serial) => ids.attestedDeviceOf(serial) }),
      {
        store: storage,
        roots: [caCert.certificate],
        issuance: ca,
      },
    ),
  );
  const edge = createEdgeListener({ routes: [acmeRoute(acme)], logger: capturedLogger() });
  server = createServer((req, res) => {
    if (req.url?.startsWith('/acme/') === true) edge(req, res);
    else mdm(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  publicUrl = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await core.close();
});

async function profileFor(udid: string): Promise<SimAcmePayload> {
  const clientIdentifier = await ids.issue({
    enrollmentId: 'enrollment-token:sim',
    expectedUdid: udid,
  });
  const profile = buildEnrollmentProfile({
    publicUrl,
    topic: TOPIC,
    ca: caCert.certificate,
    challenge: 'unused',
    acme: { directoryUrl: `${publicUrl}/acme/directory`, clientIdentifier },
  });
  const payload = (profile.PayloadContent as PlistDict[]).find(
    (p) => p.PayloadType === 'com.apple.security.acme',
  );
  return payload as unknown as SimAcmePayload;
}

describe('the simulator enrolls through ACME', () => {
  test('ok/a hardware-bound-like P-256 key, attested, becomes an ECDSA identity that checks in', async () => {
    const udid = randomUUID().toUpperCase();
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const certificate = await acmeEnroll(await profileFor(udid), {
      key,
      attest: (token) => trusted.attest({ key, token, udid, serial: 'SIM0001' }),
    });
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const device = new DeviceEmulator({
      baseUrl: publicUrl,
      identity: { certificate, privateKey: key },
      topic: TOPIC,
      keys: { UDID: udid },
    });
    await device.enroll();
    expect((await device.idle()).status).toBe(200);
  });

  test('fail/an attestation from a CA the server does not trust: the challenge is refused', async () => {
    const udid = randomUUID().toUpperCase();
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await expect(
      acmeEnroll(await profileFor(udid), {
        key,
        attest: (token) => untrusted.attest({ key, token, udid }),
      }),
    ).rejects.toThrow(/device-attest-01 failed/);
  });
});
