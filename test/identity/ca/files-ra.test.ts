/**
 * An RA for an existing CA: asked for (`ra: true`), or forced for an EC root whose RA files were
 * moved away to rotate it. Real files in a temporary folder; two concurrent openers; a stale key.
 */
import { describe, expect, test } from '@jest/globals';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { verifyCertificateChain } from '../../../src/crypto/chain.js';
import { openCaDirectory } from '../../../src/identity/ca/files.js';
import { makeTmpDir } from '../../support/openssl.js';

function caDir(): string {
  return join(makeTmpDir().dir, 'ca');
}

describe('openCaDirectory and the RA of an existing CA', () => {
  test('ok/ra: true adds an RSA-2048 RA to an RSA CA that has none, and keeps it', async () => {
    const dir = caDir();
    const first = await openCaDirectory({ dir, keyType: 'rsa-2048' });
    expect(first.ra).toBeUndefined();
    const withRa = await openCaDirectory({ dir, ra: true });
    expect(withRa.created).toBe(false);
    expect(withRa.certificate.raw.equals(first.certificate.raw)).toBe(true);
    expect(withRa.ra?.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(() =>
      verifyCertificateChain(withRa.ra!.certificate, { roots: [first.certificate] }),
    ).not.toThrow();
    expect(statSync(join(dir, 'ra.key')).mode & 0o777).toBe(0o600);
    const again = await openCaDirectory({ dir });
    expect(again.ra?.certificate.raw.equals(withRa.ra!.certificate.raw)).toBe(true);
  });

  test("ok/ra: 'auto' leaves an RSA-2048 root alone (the daemon's RSA-4096 case is in test/identity/ca/directory.test.ts)", async () => {
    const dir = caDir();
    const created = await openCaDirectory({ dir, keyType: 'rsa-2048', ra: 'auto' });
    expect(created.ra).toBeUndefined();
    expect((await openCaDirectory({ dir, ra: 'auto' })).ra).toBeUndefined();
    expect(existsSync(join(dir, 'ra.pem'))).toBe(false);
  });

  test('ok/rotation: an EC root whose RA files were moved away gets a new RA', async () => {
    const dir = caDir();
    const first = await openCaDirectory({ dir, keyType: 'ec-p384' });
    renameSync(join(dir, 'ra.pem'), join(dir, 'old-ra.pem'));
    renameSync(join(dir, 'ra.key'), join(dir, 'old-ra.key'));
    const rotated = await openCaDirectory({ dir });
    expect(rotated.ra).toBeDefined();
    expect(rotated.ra?.certificate.raw.equals(first.ra!.certificate.raw)).toBe(false);
    expect(rotated.ra?.certificate.checkIssued(first.certificate)).toBe(true);
  });

  test('ok/three openers adding an RA at once end with one RA', async () => {
    const dir = caDir();
    await openCaDirectory({ dir, keyType: 'rsa-2048' });
    const both = await Promise.all([
      openCaDirectory({ dir, ra: true }),
      openCaDirectory({ dir, ra: true }),
      openCaDirectory({ dir, ra: true }),
    ]);
    const raws = new Set(both.map((m) => m.ra?.certificate.raw.toString('hex')));
    expect(raws.size).toBe(1);
    expect([...raws][0]).toBeDefined();
    const loaded = await openCaDirectory({ dir });
    expect(loaded.ra?.certificate.raw.toString('hex')).toBe([...raws][0]);
  });

  test('fail/a stale ra.key without ra.pem is ERR_CA_KEY naming the file', async () => {
    const dir = caDir();
    await openCaDirectory({ dir, keyType: 'rsa-2048', ra: true });
    rmSync(join(dir, 'ra.pem'));
    await expect(openCaDirectory({ dir, ra: true })).rejects.toMatchObject({
      code: 'ERR_CA_KEY',
      message: expect.stringContaining('ra.key'),
    });
    expect(existsSync(join(dir, 'ra.pem'))).toBe(false);
  }, 15_000);
});
