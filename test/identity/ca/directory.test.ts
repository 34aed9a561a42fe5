/**
 * The default certificate authority of a data directory (the daemon's): an RSA-4096 root with an RSA-2048 RA and an
 * RSA-2048 issuing CA, so SCEP's per-enrollment decryption and CertRep signature use the RA key,
 * the issuing CA signs the certificates, and the root key signs nothing per enrollment. Checked
 * with the real files, Debian's scepclient (which encrypts to every certificate GetCACert returns)
 * and `openssl verify`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { verifyCertificateChain } from '../../../src/crypto/chain.js';
import { createCa } from '../../../src/identity/ca/authority.js';
import { staticChallenge } from '../../../src/identity/scep/challenge.js';
import { createScepHandler } from '../../../src/http/scep.js';
import {
  createMemoryCertificateStore,
  openPkiDirectory,
  type PkiDirectory,
} from '../../../src/index.js';
import { makeTmpDir, runOpenssl, type TmpDir } from '../../support/openssl.js';
import { startScepServer, type ScepTestServer } from '../../support/scep-server.js';

let tmp: TmpDir;
let dir: string;
let pki: PkiDirectory;
let server: ScepTestServer;

beforeAll(async () => {
  tmp = makeTmpDir();
  dir = tmp.dir;
  pki = await openPkiDirectory(dir, 'rsa-4096');
  const ca = createCa({ material: pki.ca, store: createMemoryCertificateStore() });
  server = await startScepServer(
    createScepHandler({ ca, validator: staticChallenge('pki-secret') }, { allowSingleDes: true }),
  );
}, 120_000);

afterAll(async () => {
  await server.close();
  tmp.remove();
});

describe('daemon PKI, default key type', () => {
  test('ok/an RSA-4096 root and an RSA-2048 RA it issued, the RA key 0600', () => {
    expect(pki.created).toBe(true);
    expect(pki.ca.privateKey?.asymmetricKeyDetails?.modulusLength).toBe(4096);
    const ra = pki.ca.ra;
    expect(ra?.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(() =>
      verifyCertificateChain(ra?.certificate as X509Certificate, { roots: [pki.ca.certificate] }),
    ).not.toThrow();
    expect(statSync(join(dir, 'ca', 'ra.key')).mode & 0o777).toBe(0o600);
  });

  test('ok/an RSA-2048 issuing CA the root signed, a CA certificate, its key 0600', () => {
    const issuing = pki.ca.issuer?.certificate as X509Certificate;
    expect(pki.ca.issuer?.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(issuing.ca).toBe(true);
    expect(issuing.checkIssued(pki.ca.certificate)).toBe(true);
    expect(verifyCertificateChain(issuing, { roots: [pki.ca.certificate] })).toHaveLength(2);
    const text = runOpenssl(['x509', '-noout', '-text', '-in', join(dir, 'ca', 'issuing.pem')]);
    expect(text.stdout.toString()).toMatch(/Certificate Sign, CRL Sign/);
    expect(text.stdout.toString()).toMatch(/CA:TRUE, pathlen:0/);
    expect(statSync(join(dir, 'ca', 'issuing.key')).mode & 0o777).toBe(0o600);
  });

  test('ok/a restart loads the same root, RA and issuing CA', async () => {
    const again = await openPkiDirectory(dir, 'rsa-4096');
    expect(again.created).toBe(false);
    expect(again.ca.ra?.certificate.raw.equals(pki.ca.ra?.certificate.raw as Buffer)).toBe(true);
    expect(again.ca.issuer?.certificate.raw.equals(pki.ca.issuer?.certificate.raw as Buffer)).toBe(
      true,
    );
    expect(again.ca.certificate.raw.equals(pki.ca.certificate.raw)).toBe(true);
  });

  test('ok/scepclient enrolls through the RA; the issuing CA signs; openssl verify accepts the chain', async () => {
    const out = join(dir, 'client');
    const r = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        'scepclient',
        [
          '-server-url',
          server.url,
          '-challenge',
          'pki-secret',
          '-cn',
          'device-ra',
          '-private-key',
          `${out}-key.pem`,
          '-certificate',
          `${out}-cert.pem`,
        ],
        { timeout: 60_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? 1 : 0, output: `${stdout}${stderr}` });
        },
      );
    });
    expect(r.output).toContain('pkiStatus=SUCCESS');
    expect(r.code).toBe(0);
    const cert = new X509Certificate(readFileSync(`${out}-cert.pem`));
    expect(cert.checkIssued(pki.ca.issuer?.certificate as X509Certificate)).toBe(true);
    expect(cert.checkIssued(pki.ca.certificate)).toBe(false); // the root signed nothing
    const ca = join(dir, 'ca');
    const v = runOpenssl([
      'verify',
      '-CAfile',
      join(ca, 'ca.pem'),
      '-untrusted',
      join(ca, 'issuing.pem'),
      `${out}-cert.pem`,
    ]);
    expect(v.stdout.toString()).toContain(': OK');
    const rootOnly = runOpenssl(['verify', '-CAfile', join(ca, 'ca.pem'), `${out}-cert.pem`]);
    expect(rootOnly.status).not.toBe(0);
  }, 60_000);
});
