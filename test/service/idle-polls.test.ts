/**
 * The idle hot path (`withIdlePolls` over `withCertAuth`, the SQLite probe) must never let a
 * revoked or rebound certificate through: devices emulated over real HTTP on 127.0.0.1, one
 * SQLite file, and a second connection to it standing for another daemon process that revokes and
 * rebinds. Every change it commits is refused on the very next poll (400, never 401); renewal and
 * pending commands still work; and the probe really answers the plain polls (counted).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr, parseCsr } from '../../src/crypto/csr.js';
import { createNodeListener } from '../../src/http/node.js';
import { createCa, type CertificateAuthority } from '../../src/identity/ca/authority.js';
import { certificateHash, renewalTarget, withCertAuth } from '../../src/service/cert-auth.js';
import { withIdlePolls } from '../../src/service/core-idle.js';
import { createMdmCore, type MdmCore } from '../../src/service/core.js';
import type { MdmService } from '../../src/service/ports.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/storage/sqlite/index.js';
import { DeviceEmulator, type EmulatorResponse } from '../support/device-emulator.js';
import type { TestIdentity } from '../support/device-pki.js';
import { makeCa } from '../support/pki.js';

const TOPIC = 'com.apple.mgmt.External.00000000-0000-4000-8000-0000000000bb';

let dir: string;
let db: SqliteDatabase;
/** A second connection to the same file: what another daemon process would commit. */
let other: SqliteDatabase;
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let core: MdmCore;
let server: Server;
let url: string;
const counts = { probes: 0, fullPath: 0 };
/** How the probe answers: as a promise (`probeIdle`) or at once (`probeIdleNow`, the daemon's). */
let probeForm: 'a promise' | 'at once' | 'throwing' | 'rejecting' = 'a promise';

async function issue(authority: CertificateAuthority, issuedFor: string): Promise<TestIdentity> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csr = parseCsr(createCsr({ subject: 'CN=Orchard device,O=Orchard', privateKey }));
  const record = await authority.issue({ csr, enrollmentId: issuedFor });
  return { certificate: new X509Certificate(record.der), privateKey };
}

function serialOf(identity: TestIdentity): string {
  return identity.certificate.serialNumber.toLowerCase().replace(/^0+/, '');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-idle-'));
  const path = join(dir, 'orchard.db');
  const root = await makeCa({ subject: 'CN=Idle Poll Test CA,O=Orchard', keyType: 'ec-p256' });
  db = openSqliteDatabase({ path });
  other = openSqliteDatabase({ path });
  ca = createCa({ material: root, store: db.ca.certificates });
  otherCa = createCa({ material: root, store: other.ca.certificates });
  core = createMdmCore({ storage: db.storage }, { topic: TOPIC, outbox: false });
  const roots = [root.certificate];
  const full = withCertAuth(core, { store: db.storage, roots, revocation: ca, issuance: ca });
  const counted: MdmService = {
    ...full,
    commandReport: (req, report) => {
      counts.fullPath += 1;
      return full.commandReport(req, report);
    },
  };
  const service = withIdlePolls(counted, {
    probe: (q) => {
      counts.probes += 1;
      if (probeForm === 'throwing') throw new Error('disk I/O error');
      if (probeForm === 'rejecting') return Promise.reject(new Error('disk I/O error'));
      return probeForm === 'at once' ? db.storage.probeIdleNow(q) : db.storage.probeIdle(q);
    },
    touchLastSeen: (ids, at) => db.storage.touchLastSeen(ids, at),
    roots,
  });
  server = createServer(createNodeListener(service, { trust: { roots } }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await core.close();
  await other.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  counts.probes = 0;
  counts.fullPath = 0;
});

/** A device enrolled with a certificate the CA issued for its UDID. */
async function enrolled(): Promise<{ device: DeviceEmulator; identity: TestIdentity }> {
  const udid = randomUUID().toUpperCase();
  const identity = await issue(ca, udid);
  const device = new DeviceEmulator({ baseUrl: url, identity, topic: TOPIC, keys: { UDID: udid } });
  await device.enroll();
  return { device, identity };
}

/** The same channel presenting another identity. */
function withIdentity(device: DeviceEmulator, identity: TestIdentity): DeviceEmulator {
  return new DeviceEmulator({ ...device.options, identity, keys: device.keys });
}

function expectRefused(res: EmulatorResponse, code: string): void {
  expect(res.status).toBe(400);
  expect(JSON.parse(res.body.toString()) as { code: string }).toMatchObject({ code });
}

describe.each(['a promise', 'at once'] as const)(
  'the idle hot path, the probe answering %s',
  (form) => {
    beforeAll(() => {
      probeForm = form;
    });

    test('ok/a bound, unrevoked, enrolled device with an empty queue is answered by one probe', async () => {
      const { device } = await enrolled();
      counts.probes = 0;
      for (let i = 0; i < 3; i++) {
        const res = await device.idle();
        expect(res.status).toBe(200);
        expect(res.body.length).toBe(0);
      }
      expect(counts).toEqual({ probes: 3, fullPath: 0 });
      const record = await db.storage.findEnrollment(device.enrollmentId);
      expect(record?.lastSeenAt).toBeInstanceOf(Date);
    });

    test('fail/a revocation committed by another process is refused on the very next poll', async () => {
      const { device, identity } = await enrolled();
      expect((await device.idle()).status).toBe(200);
      await otherCa.revoke(serialOf(identity));
      expectRefused(await device.idle(), 'ERR_DEVICE_CERT_REVOKED');
      expectRefused(await device.idle(), 'ERR_DEVICE_CERT_REVOKED');
      expect(counts.fullPath).toBe(2);
    });

    test('fail/a rebinding committed by another process refuses the old certificate on the next poll', async () => {
      const { device } = await enrolled();
      expect((await device.idle()).status).toBe(200);
      await other.storage.bindCertificate(device.enrollmentId, 'ab'.repeat(32), {});
      expectRefused(await device.idle(), 'ERR_CERT_BINDING');
      expect(counts.fullPath).toBe(1);
    });

    test('fail/another enrolled device presenting its own certificate for this UDID is refused', async () => {
      const victim = await enrolled();
      const attacker = await enrolled();
      const forged = withIdentity(victim.device, attacker.identity);
      expectRefused(await forged.idle(), 'ERR_CERT_BINDING');
      const binding = await db.storage.findCertificateBinding(victim.device.enrollmentId);
      expect(binding?.certHash).toBe(certificateHash(victim.identity.certificate.raw));
      expect((await victim.device.idle()).status).toBe(200);
      expect((await attacker.device.idle()).status).toBe(200);
    });

    test('fail/a certificate from the CA never bound to any enrollment is refused for this UDID', async () => {
      const { device } = await enrolled();
      const stray = await issue(ca, 'someone-else');
      expectRefused(await withIdentity(device, stray).idle(), 'ERR_CERT_BINDING');
      expect((await device.idle()).status).toBe(200);
    });

    test('ok/an identity renewal moves the binding; the old certificate is refused from then on', async () => {
      const { device } = await enrolled();
      const renewed = await issue(ca, renewalTarget(device.enrollmentId));
      const next = withIdentity(device, renewed);
      expect((await next.idle()).status).toBe(200);
      expect(counts.fullPath).toBe(1);
      expectRefused(await device.idle(), 'ERR_CERT_BINDING');
      counts.fullPath = 0;
      expect((await next.idle()).status).toBe(200);
      expect(counts.fullPath).toBe(0);
    });

    test('ok/a pending command is sent by the full path, and polls are fast again once answered', async () => {
      const { device } = await enrolled();
      const uuid = await core.enqueue(
        [device.enrollmentId],
        { RequestType: 'ProfileList' },
        {
          push: false,
        },
      );
      const res = await device.idle();
      expect(res.plist?.CommandUUID).toBe(uuid);
      expect((await device.answer(uuid, 'Acknowledged')).status).toBe(200);
      counts.fullPath = 0;
      expect((await device.idle()).status).toBe(200);
      expect(counts.fullPath).toBe(0);
    });

    test('fail/an unenrolled device gets the full path answer (403 unrecognized, never 401)', async () => {
      const { device } = await enrolled();
      await core.unenroll(device.enrollmentId);
      const res = await device.idle();
      expect(res.status).toBe(403);
      expect(counts.fullPath).toBe(1);
    });
  },
);

describe.each(['throwing', 'rejecting'] as const)('a probe %s', (form) => {
  afterAll(() => {
    probeForm = 'a promise';
  });

  test('ok/sends the poll down the full path, which answers it (and still refuses a revoked certificate)', async () => {
    const { device, identity } = await enrolled();
    probeForm = form;
    counts.probes = 0;
    counts.fullPath = 0;
    const res = await device.idle();
    expect(res.status).toBe(200);
    expect(counts).toEqual({ probes: 1, fullPath: 1 });
    await otherCa.revoke(serialOf(identity));
    expectRefused(await device.idle(), 'ERR_DEVICE_CERT_REVOKED');
    expect(counts).toEqual({ probes: 2, fullPath: 2 });
  });
});
