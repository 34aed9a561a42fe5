import { describe, expect, test } from '@jest/globals';
import { createMemoryCertificateStore } from '../../../src/index.js';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createCsr, parseCsr } from '../../../src/crypto/csr.js';
import { CertificateAuthorityError } from '../../../src/errors.js';
import { createCa } from '../../../src/identity/ca/authority.js';
import { importCa, openCaDirectory } from '../../../src/identity/ca/files.js';
import { type CertificateStore } from '../../../src/identity/ca/store.js';
import { makeTmpDir, runOpenssl } from '../../support/openssl.js';
import { testPki } from '../../support/pki.js';
import { clientKey } from '../scep/helpers.js';

// The test PKI is created at run time, so the injected clock is one day after that, in whole seconds.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000 + 86_400_000);

const csrOf = (subject: string, key = clientKey()) =>
  parseCsr(createCsr({ subject, privateKey: key }));

describe('openCaDirectory', () => {
  test('ok/creates an EC P-384 root with an RSA RA, keys 0600, and reopens the same CA', async () => {
    const tmp = makeTmpDir();
    const dir = tmp.path('ca');
    const first = await openCaDirectory({ dir, keyType: 'ec-p384', subject: 'CN=Test Root,O=T' });
    expect(first.created).toBe(true);
    expect(first.privateKey?.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(first.ra?.privateKey.asymmetricKeyType).toBe('rsa');
    expect(first.ra?.certificate.checkIssued(first.certificate)).toBe(true);
    expect(statSync(`${dir}/ca.key`).mode & 0o777).toBe(0o600);
    expect(statSync(`${dir}/ra.key`).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const again = await openCaDirectory({ dir });
    expect(again.created).toBe(false);
    expect(again.certificate.raw.equals(first.certificate.raw)).toBe(true);
    expect(again.ra?.certificate.raw.equals(first.ra?.certificate.raw ?? Buffer.alloc(0))).toBe(
      true,
    );
    tmp.remove();
  });

  test('ok/RSA 4096 root by default, with a passphrase: the key file is encrypted PKCS#8', async () => {
    const tmp = makeTmpDir();
    const dir = tmp.path('ca');
    const ca = await openCaDirectory({ dir, passphrase: 'pw-1' });
    expect(ca.privateKey?.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(ca.ra).toBeUndefined();
    const pem = readFileSync(`${dir}/ca.key`, 'utf8');
    expect(pem).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    expect(
      runOpenssl(['pkey', '-in', `${dir}/ca.key`, '-passin', 'pass:pw-1', '-noout']).status,
    ).toBe(0);
    await expect(openCaDirectory({ dir, passphrase: 'wrong' })).rejects.toMatchObject({
      code: 'ERR_CA_PASSPHRASE',
    });
    await expect(openCaDirectory({ dir })).rejects.toMatchObject({ code: 'ERR_CA_PASSPHRASE' });
    expect((await openCaDirectory({ dir, passphrase: 'pw-1' })).created).toBe(false);
    tmp.remove();
  }, 60_000);

  test('ok/two concurrent first starts end with one CA', async () => {
    const tmp = makeTmpDir();
    const dir = tmp.path('ca');
    const [a, b] = await Promise.all([
      openCaDirectory({ dir, keyType: 'ec-p384' }),
      openCaDirectory({ dir, keyType: 'ec-p384' }),
    ]);
    expect(a.certificate.raw.equals(b.certificate.raw)).toBe(true);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    tmp.remove();
  });
});

describe('openCaDirectory folders', () => {
  test('ok/an existing empty folder receives the CA', async () => {
    const tmp = makeTmpDir();
    const dir = tmp.path('ca');
    mkdirSync(dir);
    expect((await openCaDirectory({ dir, keyType: 'ec-p384' })).created).toBe(true);
    expect(statSync(`${dir}/ca.key`).mode & 0o777).toBe(0o600);
    tmp.remove();
  });

  test('fail/a non-empty folder without a CA is ERR_CA_KEY and is left alone', async () => {
    const tmp = makeTmpDir();
    const dir = tmp.path('ca');
    mkdirSync(dir);
    tmp.write('ca/notes.txt', 'mine');
    await expect(openCaDirectory({ dir, keyType: 'ec-p384' })).rejects.toMatchObject({
      code: 'ERR_CA_KEY',
    });
    expect(readFileSync(`${dir}/notes.txt`, 'utf8')).toBe('mine');
    tmp.remove();
  });

  test('ok/eight concurrent first starts end with one complete CA', async () => {
    const tmp = makeTmpDir();
    const dir = tmp.path('ca');
    const all = await Promise.all(
      Array.from({ length: 8 }, () => openCaDirectory({ dir, keyType: 'ec-p384' })),
    );
    expect(all.filter((m) => m.created)).toHaveLength(1);
    for (const m of all) {
      expect(m.certificate.raw.equals((all[0] as typeof m).certificate.raw)).toBe(true);
      expect(m.ra).toBeDefined();
    }
    tmp.remove();
  });
});

describe('importCa', () => {
  test('ok/imports an existing CA and reopens it', async () => {
    const pki = await testPki();
    const tmp = makeTmpDir();
    await importCa({
      dir: tmp.path('ca'),
      certificate: pki.rsaCa.certPem,
      privateKey: pki.rsaCa.keyPem,
    });
    const opened = await openCaDirectory({ dir: tmp.path('ca') });
    expect(opened.created).toBe(false);
    expect(opened.certificate.raw.equals(pki.rsaCa.certificate.raw)).toBe(true);
    tmp.remove();
  });

  test.each([
    ['fail/key of another certificate', 'mismatch'],
    ['fail/EC CA without an RA', 'ec'],
    ['fail/directory already holds a CA', 'twice'],
  ])('%s', async (_name, kind) => {
    const pki = await testPki();
    const tmp = makeTmpDir();
    const dir = tmp.path('ca');
    if (kind === 'twice')
      await importCa({ dir, certificate: pki.rsaCa.certPem, privateKey: pki.rsaCa.keyPem });
    const options =
      kind === 'mismatch'
        ? { dir, certificate: pki.rsaCa.certPem, privateKey: pki.stranger.keyPem }
        : kind === 'ec'
          ? { dir, certificate: pki.ecCa.certPem, privateKey: pki.ecCa.keyPem }
          : { dir, certificate: pki.rsaCa.certPem, privateKey: pki.rsaCa.keyPem };
    await expect(importCa(options)).rejects.toMatchObject({ code: 'ERR_CA_KEY' });
    tmp.remove();
  });
});

describe('createCa', () => {
  async function ca(
    store: CertificateStore = createMemoryCertificateStore(),
    random?: (n: number) => Buffer,
  ) {
    const pki = await testPki();
    return createCa(
      {
        material: { certificate: pki.rsaCa.certificate, privateKey: pki.rsaCa.privateKey },
        store,
        clock: () => NOW,
        ...(random ? { random } : {}),
      },
      { validityDays: 30 },
    );
  }

  test.each([
    ['ok/RSA 2048', () => clientKey('rsa-2048')],
    ['ok/EC P-256', () => clientKey('ec-p256')],
    ['ok/EC P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
  ])('%s key: issued, recorded, clientAuth, accepted by openssl verify', async (_name, key) => {
    const authority = await ca();
    const issued = await authority.issue({
      csr: csrOf('CN=dev,O=Org,C=US', key()),
      enrollmentId: 'enr-1',
    });
    const cert = new X509Certificate(issued.der);
    expect(cert.subject).toBe('CN=dev\nO=Org\nC=US');
    expect(Date.parse(cert.validTo)).toBe(NOW.getTime() + 30 * 86_400_000);
    expect(Date.parse(cert.validFrom)).toBe(NOW.getTime() - 300_000);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.checkIssued(authority.certificate)).toBe(true);
    expect(cert.ca).toBe(false);
    const tmp = makeTmpDir();
    const pki = await testPki();
    tmp.write('ca.pem', pki.rsaCa.certPem);
    tmp.write('leaf.pem', cert.toString());
    const v = runOpenssl([
      'verify',
      '-purpose',
      'sslclient',
      '-attime',
      String(NOW.getTime() / 1000 + 86_400),
      '-CAfile',
      tmp.path('ca.pem'),
      tmp.path('leaf.pem'),
    ]);
    expect(v.stdout.toString()).toContain(': OK');
    expect((await authority.findIssuedCertificate(cert.serialNumber))?.enrollmentId).toBe('enr-1');
    tmp.remove();
  });

  test.each([
    ['fail/RSA 1024 key', () => csrOf('CN=x', clientKey('rsa-1024')), 'key'],
    ['fail/EC P-521 key', () => csrOf('CN=x', clientKey('ec-p521')), 'key'],
    ['fail/subject attribute outside the allowlist', () => csrOf('CN=x,title=boss'), 'subject'],
    ['fail/overlong subject value', () => csrOf(`CN=${'a'.repeat(300)}`), 'subject'],
  ])('%s', async (_name, csr, reason) => {
    const authority = await ca();
    const result = authority.issue({ csr: csr() });
    await expect(result).rejects.toBeInstanceOf(CertificateAuthorityError);
    await expect(result).rejects.toMatchObject({ code: 'ERR_CA_POLICY', detail: { reason } });
  });

  test('ok/200 concurrent issues give 200 distinct serials, all recorded', async () => {
    const store = createMemoryCertificateStore();
    const authority = await ca(store);
    const csr = csrOf('CN=many');
    const issued = await Promise.all(Array.from({ length: 200 }, () => authority.issue({ csr })));
    expect(new Set(issued.map((i) => i.serial)).size).toBe(200);
    expect(await store.countIssued()).toBe(200);
    expect(issued.every((i) => i.serial.length === 32 && /^[4-7]/.test(i.serial))).toBe(true);
  });

  test('ok/a colliding serial is retried; ERR_CA_SERIAL_CONFLICT after repeated collisions', async () => {
    const fixed = Buffer.alloc(16, 0x11);
    let calls = 0;
    const collideOnce = (n: number): Buffer =>
      ++calls <= 2 ? Buffer.from(fixed) : Buffer.alloc(n, calls);
    const authority = await ca(createMemoryCertificateStore(), collideOnce);
    const csr = csrOf('CN=c');
    const a = await authority.issue({ csr });
    const b = await authority.issue({ csr });
    expect(a.serial).not.toBe(b.serial);
    const stuck = await ca(createMemoryCertificateStore(), () => Buffer.from(fixed));
    await stuck.issue({ csr });
    await expect(stuck.issue({ csr })).rejects.toMatchObject({ code: 'ERR_CA_SERIAL_CONFLICT' });
  });

  test('ok/revoke, isRevoked and lookups; unknown serials', async () => {
    const authority = await ca();
    const issued = await authority.issue({ csr: csrOf('CN=r') });
    expect(await authority.isRevoked(issued.serial)).toBe(false);
    await authority.revoke(issued.serial.toUpperCase(), 'keyCompromise');
    expect(await authority.isRevoked(issued.serial)).toBe(true);
    expect((await authority.findIssuedCertificate(issued.serial))?.revocationReason).toBe(
      'keyCompromise',
    );
    expect(await authority.isRevoked('abcdef')).toBe(false);
    await expect(authority.revoke('abcdef')).rejects.toMatchObject({
      code: 'ERR_CA_NOT_FOUND',
      status: 404,
    });
  });

  test('fail/a key that does not match the certificate is a TypeError', async () => {
    const pki = await testPki();
    expect(() =>
      createCa({
        material: { certificate: pki.rsaCa.certificate, privateKey: pki.stranger.privateKey },
        store: createMemoryCertificateStore(),
      }),
    ).toThrow(TypeError);
  });

  test.each([
    ['fail/validity of 0 days', { validityDays: 0 }],
    ['fail/RSA minimum below 2048', { minRsaBits: 1024 }],
  ])('%s is a TypeError', async (_name, policy) => {
    const pki = await testPki();
    expect(() =>
      createCa(
        {
          material: { certificate: pki.rsaCa.certificate, privateKey: pki.rsaCa.privateKey },
          store: createMemoryCertificateStore(),
        },
        policy,
      ),
    ).toThrow(TypeError);
  });
});
