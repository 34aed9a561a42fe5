/**
 * Interop with Debian's scepclient (micromdm/scep 2.1.0) over a real socket on 127.0.0.1, and
 * `openssl verify` on what it receives. scepclient signs with SHA-1 and encrypts with single DES,
 * so the handler runs with `allowSingleDes`; without it the request is refused with badAlg.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { CertificateAuthority } from '../../../src/identity/ca/authority.js';
import { staticChallenge } from '../../../src/identity/scep/challenge.js';
import { createScepHandler } from '../../../src/http/scep.js';
import { runOpenssl } from '../../support/openssl.js';
import { startScepServer, type ScepTestServer } from '../../support/scep-server.js';
import { setupCa } from './helpers.js';

const SECRET = 'interop-secret';
let ca: CertificateAuthority;
let dir: string;
let server: ScepTestServer;
let strictServer: ScepTestServer;
let n = 0;

/** Runs scepclient asynchronously (the server lives in this process) and never throws. */
function scepclient(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('scepclient', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

function freshFolder(): string {
  const d = `${dir}/client-${String(++n)}`;
  mkdirSync(d);
  return d;
}

beforeAll(async () => {
  ({ ca, dir } = await setupCa());
  server = await startScepServer(
    createScepHandler({ ca, validator: staticChallenge(SECRET) }, { allowSingleDes: true }),
  );
  strictServer = await startScepServer(
    createScepHandler({ ca, validator: staticChallenge(SECRET) }),
  );
});

afterAll(async () => {
  await server.close();
  await strictServer.close();
});

async function enrollWith(url: string, challenge: string, keySize = 2048) {
  const d = freshFolder();
  const r = await scepclient([
    '-server-url',
    url,
    '-challenge',
    challenge,
    '-cn',
    `device-${String(n)}`,
    '-private-key',
    `${d}/key.pem`,
    '-certificate',
    `${d}/cert.pem`,
    '-keySize',
    String(keySize),
  ]);
  return { ...r, d };
}

describe('scepclient', () => {
  test.each([2048, 4096])(
    'ok/enrolls with the right challenge, RSA %i, openssl verify accepts',
    async (bits) => {
      const r = await enrollWith(server.url, SECRET, bits);
      expect(r.code).toBe(0);
      const cert = new X509Certificate(readFileSync(`${r.d}/cert.pem`));
      expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(bits);
      expect(cert.subject).toContain(`CN=device-${String(n)}`);
      const v = runOpenssl(['verify', '-CAfile', `${dir}/ca/ca.pem`, `${r.d}/cert.pem`]);
      expect(v.stdout.toString()).toContain(': OK');
      expect((await ca.findIssuedCertificate(cert.serialNumber))?.subject).toContain('CN=device-');
    },
  );

  test('fail/a wrong challenge is refused with badRequest and nothing is issued', async () => {
    const r = await enrollWith(server.url, 'not-the-secret');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('badRequest');
    expect(runOpenssl(['x509', '-in', `${r.d}/cert.pem`, '-noout']).status).not.toBe(0);
  });

  test('ok/renews: a second run with the issued certificate sends RenewalReq', async () => {
    const r = await enrollWith(server.url, SECRET);
    expect(r.code).toBe(0);
    const first = new X509Certificate(readFileSync(`${r.d}/cert.pem`));
    const again = await scepclient([
      '-server-url',
      server.url,
      '-cn',
      'renewed',
      '-private-key',
      `${r.d}/key.pem`,
      '-certificate',
      `${r.d}/cert.pem`,
    ]);
    expect(again.code).toBe(0);
    const second = new X509Certificate(readFileSync(`${r.d}/cert.pem`));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(runOpenssl(['verify', '-CAfile', `${dir}/ca/ca.pem`, `${r.d}/cert.pem`]).status).toBe(0);
  });

  test('fail/renewal with a revoked certificate is refused with badCertId', async () => {
    const r = await enrollWith(server.url, SECRET);
    const cert = new X509Certificate(readFileSync(`${r.d}/cert.pem`));
    await ca.revoke(cert.serialNumber);
    const again = await scepclient([
      '-server-url',
      server.url,
      '-private-key',
      `${r.d}/key.pem`,
      '-certificate',
      `${r.d}/cert.pem`,
    ]);
    expect(again.code).not.toBe(0);
    expect(again.output).toContain('failInfo: badCertID (4)');
  });

  test('fail/single DES is refused with badAlg unless enabled', async () => {
    const r = await enrollWith(strictServer.url, SECRET);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('badAlg');
  });
});
