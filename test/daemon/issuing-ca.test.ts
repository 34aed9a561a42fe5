/**
 * The daemon's default CA over HTTP: an RSA-4096 root, an RSA-2048 RA and an RSA-2048 issuing CA.
 * GetCACert carries all three; Debian's scepclient enrolls; the certificate the issuing CA signed
 * authenticates check-ins (the MDM core builds its chain through the issuing CA); with the root key
 * moved offline the daemon restarts and keeps enrolling. Upgrading a CA
 * that has none, and renewing what the root issued before, are in test/identity/ca/issuing.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSignedData } from '../../src/crypto/cms-parse.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { newTopic } from '../push/pki.js';

const CHALLENGE = 'issuing-ca-secret';
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await spawnDaemon({
    caKeyType: null,
    args: ['--scep-challenge', CHALLENGE, '--scep-allow-des'],
    readyTimeoutMs: 120_000,
  });
}, 150_000);

afterAll(async () => {
  await daemon.cleanup();
});

function scepEnroll(): { certificate: X509Certificate; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-scepclient-'));
  execFileSync(
    'scepclient',
    [
      ...['-server-url', `${daemon.url}/scep`, '-challenge', CHALLENGE, '-cn', 'two-tier-device'],
      ...['-private-key', join(dir, 'key.pem'), '-certificate', join(dir, 'cert.pem')],
    ],
    { timeout: 60_000, stdio: 'pipe' },
  );
  return {
    certificate: new X509Certificate(readFileSync(join(dir, 'cert.pem'))),
    keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
  };
}

/** Authenticate and TokenUpdate signed with `issued`: the daemon must accept its chain. */
async function checkIn(issued: { certificate: X509Certificate; keyPem: string }): Promise<void> {
  const device = new DeviceEmulator({
    baseUrl: daemon.url,
    topic: newTopic(),
    identity: { certificate: issued.certificate, privateKey: createPrivateKey(issued.keyPem) },
  });
  await device.enroll();
}

describe('daemon default CA: root, RA and issuing CA', () => {
  test('ok/GetCACert holds the RSA-4096 root, the RA and the issuing CA', async () => {
    const res = await fetch(`${daemon.url}/scep?operation=GetCACert`);
    expect(res.headers.get('content-type')).toBe('application/x-x509-ca-ra-cert');
    const certs = parseSignedData(Buffer.from(await res.arrayBuffer())).certificates.map(
      (c) => new X509Certificate(c),
    );
    const root = certs.find((c) => c.checkIssued(c));
    expect(root?.publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
    const issuing = certs.find((c) => c.ca && c !== root);
    expect(issuing?.checkIssued(root as X509Certificate)).toBe(true);
    expect(certs.filter((c) => !c.ca)).toHaveLength(1); // the RA
    const root0 = readFileSync(join(daemon.dataDir, 'ca', 'ca.pem'), 'utf8');
    expect(new X509Certificate(root0).raw.equals((root as X509Certificate).raw)).toBe(true);
  });

  test('ok/scepclient enrolls; the issuing CA signed it; the identity authenticates check-ins', async () => {
    const issued = scepEnroll();
    const issuing = new X509Certificate(
      readFileSync(join(daemon.dataDir, 'ca', 'issuing.pem'), 'utf8'),
    );
    expect(issued.certificate.checkIssued(issuing)).toBe(true);
    await checkIn(issued);
  }, 90_000);

  test('ok/with the root key moved offline the daemon restarts and still enrolls', async () => {
    await daemon.kill();
    const ca = join(daemon.dataDir, 'ca');
    renameSync(join(ca, 'ca.key'), join(daemon.dataDir, 'ca.key.offline'));
    await daemon.restart();
    const issued = scepEnroll();
    await checkIn(issued);
  }, 90_000);
});
