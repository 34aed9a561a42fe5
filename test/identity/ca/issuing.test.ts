/**
 * The issuing CA: an RSA-2048 intermediate the root signs, which then signs every certificate, so
 * the root key signs nothing per enrollment. Real files, the SCEP handler end to end, renewal of a
 * certificate the root issued before the issuing CA existed, and refusals of a wrong issuer.
 */
import { createMemoryCertificateStore } from '../../../src/index.js';
import { describe, expect, test } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyCertificateChain } from '../../../src/crypto/chain.js';
import { parseSignedData } from '../../../src/crypto/cms-parse.js';
import { createCa } from '../../../src/identity/ca/authority.js';
import { openCaDirectory } from '../../../src/identity/ca/files.js';
import { staticChallenge } from '../../../src/identity/scep/challenge.js';
import { createScepHandler } from '../../../src/http/scep.js';
import { makeTmpDir, runOpenssl } from '../../support/openssl.js';
import { clientKey, enroll, setupCa } from '../scep/helpers.js';

const SECRET = 'issuing-secret';

function caDir(): string {
  return join(makeTmpDir().dir, 'ca');
}

describe('issuing CA', () => {
  test('ok/issuing: true creates an RSA-2048 CA certificate the root signed, and an RA with it', async () => {
    const dir = caDir();
    const m = await openCaDirectory({ dir, keyType: 'rsa-2048', issuing: true });
    const issuing = m.issuer?.certificate as X509Certificate;
    expect(issuing.ca).toBe(true);
    expect(m.issuer?.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(verifyCertificateChain(issuing, { roots: [m.certificate] })).toHaveLength(2);
    expect(m.ra?.certificate.ca).toBe(false);
    expect(statSync(join(dir, 'issuing.key')).mode & 0o777).toBe(0o600);
    const again = await openCaDirectory({ dir });
    expect(again.issuer?.certificate.raw.equals(issuing.raw)).toBe(true);
  });

  test('ok/enrollment: the issuing CA signs, GetCACert holds RA, issuing CA and root, openssl verifies', async () => {
    const { ca, dir } = await setupCa({ issuing: true });
    expect(ca.intermediates).toHaveLength(1);
    const handler = createScepHandler({ ca, validator: staticChallenge(SECRET) });
    const res = await handler({ method: 'GET', query: { operation: 'GetCACert' } });
    expect(res.headers['content-type']).toBe('application/x-x509-ca-ra-cert');
    const bag = parseSignedData(res.body).certificates.map((c) => c.toString('hex'));
    // A SET OF: DER orders it by encoding, not as given.
    expect([...bag].sort()).toEqual(
      [ca.ra?.certificate.raw, ca.issuer.raw, ca.certificate.raw]
        .map((c) => c?.toString('hex'))
        .sort(),
    );
    const rep = await enroll(handler, ca, { challenge: SECRET });
    const cert = rep.certificate as X509Certificate;
    expect(cert.checkIssued(ca.issuer)).toBe(true);
    expect(cert.checkIssued(ca.certificate)).toBe(false);
    expect(
      verifyCertificateChain(cert, {
        roots: [ca.certificate],
        intermediates: ca.intermediates,
      }),
    ).toHaveLength(3);
    const files = makeTmpDir();
    const leaf = files.path('leaf.pem');
    writeFileSync(leaf, cert.toString());
    const caFiles = join(dir, 'ca');
    const v = runOpenssl([
      'verify',
      '-CAfile',
      join(caFiles, 'ca.pem'),
      '-untrusted',
      join(caFiles, 'issuing.pem'),
      leaf,
    ]);
    expect(v.stdout.toString()).toContain(': OK');
    // The issuing CA's validity bounds what it issues.
    expect(Date.parse(cert.validTo)).toBeLessThanOrEqual(Date.parse(ca.issuer.validTo));
  });

  test('ok/an existing CA gains an issuing CA; a certificate the root issued before still renews', async () => {
    const dir = caDir();
    const store = createMemoryCertificateStore();
    const before = createCa({
      material: await openCaDirectory({ dir, keyType: 'rsa-2048', ra: true }),
      store,
    });
    const oldHandler = createScepHandler({ ca: before, validator: staticChallenge(SECRET) });
    const old = await enroll(oldHandler, before, { challenge: SECRET });
    const oldCert = old.certificate as X509Certificate;
    expect(oldCert.checkIssued(before.certificate)).toBe(true);

    const upgraded = await openCaDirectory({ dir, issuing: true });
    expect(upgraded.ra?.certificate.raw.equals(before.ra?.certificate.raw as Buffer)).toBe(true);
    expect(existsSync(join(dir, 'issuing.pem'))).toBe(true);
    const after = createCa({ material: upgraded, store });
    const handler = createScepHandler({ ca: after, validator: staticChallenge(SECRET) });
    const renewed = await enroll(handler, after, {
      messageType: 'RenewalReq',
      signer: { certificate: oldCert, privateKey: clientKey() },
      key: clientKey('rsa-2048', 1),
    });
    expect(renewed.status).toBe('SUCCESS');
    expect(renewed.certificate?.checkIssued(after.issuer)).toBe(true);
    // A certificate the issuing CA signed renews too (its chain needs the intermediate).
    const again = await enroll(handler, after, {
      messageType: 'RenewalReq',
      signer: {
        certificate: renewed.certificate as X509Certificate,
        privateKey: clientKey('rsa-2048', 1),
      },
      key: clientKey('rsa-2048', 2),
    });
    expect(again.status).toBe('SUCCESS');
    // Both generations chain to the same root once the issuing CA is offered for path building.
    for (const cert of [oldCert, renewed.certificate as X509Certificate])
      expect(() =>
        verifyCertificateChain(cert, {
          roots: [after.certificate],
          intermediates: after.intermediates,
        }),
      ).not.toThrow();
  });

  test('ok/rotation: the old issuing CA moved to retired/ still chains and renews; GetCACert omits it', async () => {
    const dir = caDir();
    const store = createMemoryCertificateStore();
    const first = createCa({
      material: await openCaDirectory({ dir, keyType: 'rsa-2048', issuing: true }),
      store,
    });
    const firstHandler = createScepHandler({ ca: first, validator: staticChallenge(SECRET) });
    const old = (await enroll(firstHandler, first, { challenge: SECRET }))
      .certificate as X509Certificate;
    mkdirSync(join(dir, 'retired'));
    renameSync(join(dir, 'issuing.pem'), join(dir, 'retired', 'issuing-1.pem'));
    rmSync(join(dir, 'issuing.key'));
    const rotated = createCa({ material: await openCaDirectory({ dir, issuing: true }), store });
    expect(rotated.issuer.raw.equals(first.issuer.raw)).toBe(false);
    expect(rotated.intermediates.map((c) => c.raw.toString('hex'))).toEqual(
      [rotated.issuer, first.issuer].map((c) => c.raw.toString('hex')),
    );
    expect(() =>
      verifyCertificateChain(old, {
        roots: [rotated.certificate],
        intermediates: rotated.intermediates,
      }),
    ).not.toThrow();
    const handler = createScepHandler({ ca: rotated, validator: staticChallenge(SECRET) });
    const renewed = await enroll(handler, rotated, {
      messageType: 'RenewalReq',
      signer: { certificate: old, privateKey: clientKey() },
      key: clientKey('rsa-2048', 3),
    });
    expect(renewed.status).toBe('SUCCESS');
    expect(renewed.certificate?.checkIssued(rotated.issuer)).toBe(true);
    const res = await handler({ method: 'GET', query: { operation: 'GetCACert' } });
    const bag = parseSignedData(res.body).certificates;
    expect(bag.some((c) => c.equals(first.issuer.raw))).toBe(false);
    expect(bag).toHaveLength(3);
  });

  test('fail/a retired certificate the root did not sign stops createCa', async () => {
    const dir = caDir();
    await openCaDirectory({ dir, keyType: 'rsa-2048', issuing: true });
    const other = await openCaDirectory({ dir: caDir(), keyType: 'rsa-2048', issuing: true });
    mkdirSync(join(dir, 'retired'));
    writeFileSync(join(dir, 'retired', 'stray.pem'), other.issuer!.certificate.toString());
    const material = await openCaDirectory({ dir });
    expect(() => createCa({ material, store: createMemoryCertificateStore() })).toThrow(
      /current or retired/,
    );
  });

  test('ok/the root key can go offline: ca.key removed, the issuing CA and RA still enroll', async () => {
    const dir = caDir();
    await openCaDirectory({ dir, keyType: 'rsa-2048', issuing: true });
    renameSync(join(dir, 'ca.key'), join(dir, '..', 'offline-ca.key'));
    const material = await openCaDirectory({ dir, issuing: true });
    expect(material.privateKey).toBeUndefined();
    const ca = createCa({ material, store: createMemoryCertificateStore() });
    const handler = createScepHandler({ ca, validator: staticChallenge(SECRET) });
    const rep = await enroll(handler, ca, { challenge: SECRET });
    expect(rep.status).toBe('SUCCESS');
    expect(rep.certificate?.checkIssued(ca.issuer)).toBe(true);
  });

  test('fail/without the root key nothing new can be issued from it, with a clear error', async () => {
    const plain = caDir();
    await openCaDirectory({ dir: plain, keyType: 'rsa-2048' });
    rmSync(join(plain, 'ca.key'));
    await expect(openCaDirectory({ dir: plain })).rejects.toMatchObject({
      code: 'ERR_CA_KEY',
      message: expect.stringContaining('ca.key is missing'),
    });
    const dir = caDir();
    await openCaDirectory({ dir, keyType: 'rsa-2048', issuing: true });
    rmSync(join(dir, 'ca.key'));
    mkdirSync(join(dir, 'retired'));
    renameSync(join(dir, 'issuing.pem'), join(dir, 'retired', 'old.pem'));
    rmSync(join(dir, 'issuing.key'));
    await expect(openCaDirectory({ dir, issuing: true })).rejects.toMatchObject({
      code: 'ERR_CA_KEY',
      message: expect.stringContaining('offline'),
    });
    expect(existsSync(join(dir, 'issuing.key'))).toBe(false);
    const material = await openCaDirectory({ dir: caDir(), keyType: 'rsa-2048', ra: true });
    expect(() =>
      createCa({
        material: { certificate: material.certificate, ra: material.ra! },
        store: createMemoryCertificateStore(),
      }),
    ).toThrow(/issuing CA and an RA/);
  });

  test('fail/an unreadable certificate file is ERR_CA_FILE naming it', async () => {
    const dir = caDir();
    await openCaDirectory({ dir, keyType: 'rsa-2048', issuing: true });
    mkdirSync(join(dir, 'retired'));
    writeFileSync(join(dir, 'retired', 'junk.pem'), 'not a certificate');
    await expect(openCaDirectory({ dir })).rejects.toMatchObject({
      code: 'ERR_CA_FILE',
      message: expect.stringContaining('junk.pem'),
    });
    rmSync(join(dir, 'retired'), { recursive: true });
    writeFileSync(
      join(dir, 'issuing.pem'),
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    );
    await expect(openCaDirectory({ dir })).rejects.toMatchObject({
      code: 'ERR_CA_FILE',
      message: expect.stringContaining('issuing.pem'),
    });
  });

  test('ok/three openers adding an issuing CA at once end with one', async () => {
    const dir = caDir();
    await openCaDirectory({ dir, keyType: 'rsa-2048' });
    const all = await Promise.all(
      Array.from({ length: 3 }, () => openCaDirectory({ dir, issuing: true })),
    );
    const raws = new Set(all.map((m) => m.issuer?.certificate.raw.toString('hex')));
    expect(raws.size).toBe(1);
    const loaded = await openCaDirectory({ dir });
    expect(loaded.issuer?.certificate.raw.toString('hex')).toBe([...raws][0]);
  });

  test("ok/issuing: 'auto' leaves an RSA-2048 root alone", async () => {
    const dir = caDir();
    const m = await openCaDirectory({ dir, keyType: 'rsa-2048', issuing: 'auto' });
    expect(m.issuer).toBeUndefined();
    expect(existsSync(join(dir, 'issuing.pem'))).toBe(false);
  });

  test('fail/createCa refuses an issuing CA the root did not sign, or one that is not a CA', async () => {
    const a = await openCaDirectory({ dir: caDir(), keyType: 'rsa-2048', issuing: true });
    const b = await openCaDirectory({ dir: caDir(), keyType: 'rsa-2048', issuing: true });
    const store = createMemoryCertificateStore();
    expect(() => createCa({ material: { ...a, issuer: b.issuer! }, store })).toThrow(
      /signed by the root/,
    );
    expect(() => createCa({ material: { ...a, issuer: a.ra! }, store })).toThrow(
      /signed by the root/,
    );
    expect(() =>
      createCa({
        material: {
          ...a,
          issuer: { certificate: a.issuer!.certificate, privateKey: b.issuer!.privateKey },
        },
        store,
      }),
    ).toThrow(/issuing CA key does not match/);
  });
});
