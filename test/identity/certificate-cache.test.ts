/**
 * The process-wide cache of device certificates behind `Mdm-Signature` checks (issue 20): within
 * its bound a device's next check reuses what its first parsed and proved (the very certificate
 * object comes back), past it the oldest go; the daemon's `--identity-cache` sets it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  EMBEDDED_CERTIFICATE_CACHE_DEFAULT,
  embeddedCertificateCacheCount,
  setEmbeddedCertificateCacheSize,
} from '../../src/crypto/cms-detached.js';
import { resolveConfig } from '../../src/daemon/config.js';
import { checkMdmSignature } from '../../src/identity/mdm-signature.js';
import { ConfigError } from '../../src/index.js';
import { mdmSignature } from '../../src/sim/index.js';
import { makeCa, makeLeaf, type TestIdentity } from '../support/pki.js';

const BODY = Buffer.from(
  '<plist version="1.0"><dict><key>Status</key><string>Idle</string></dict></plist>',
);

describe('the device certificate cache', () => {
  let ca: TestIdentity;
  let key: KeyObject;
  const headers: string[] = [];
  beforeAll(async () => {
    ca = await makeCa({ keyType: 'ec-p256' });
    key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    for (let i = 0; i < 4; i++) {
      const leaf = await makeLeaf(ca, { privateKey: key, subject: `CN=device ${String(i)}` });
      headers.push(mdmSignature(BODY, { certificate: leaf.certificate, privateKey: key }));
    }
  });
  afterAll(() => {
    setEmbeddedCertificateCacheSize(EMBEDDED_CERTIFICATE_CACHE_DEFAULT);
  });
  const check = (i: number) =>
    checkMdmSignature(headers[i] as string, BODY, { roots: [ca.certificate], at: new Date() });

  test('ok/within the bound a device is parsed once: its next check returns the same certificate', () => {
    setEmbeddedCertificateCacheSize(4);
    const first = [0, 1, 2, 3].map(check);
    const again = [0, 1, 2, 3].map(check);
    for (let i = 0; i < 4; i++) expect(again[i]).toBe(first[i]);
    expect(embeddedCertificateCacheCount()).toBe(4);
  });

  test('ok/past the bound the oldest go, and a device that went still verifies', () => {
    setEmbeddedCertificateCacheSize(4);
    const before = check(0);
    setEmbeddedCertificateCacheSize(2);
    expect(embeddedCertificateCacheCount()).toBe(2);
    check(1);
    check(2);
    check(3);
    expect(embeddedCertificateCacheCount()).toBe(2);
    const after = check(0);
    expect(after.raw.equals(before.raw)).toBe(true);
    expect(embeddedCertificateCacheCount()).toBe(2);
  });

  test('fail/a forged certificate keyed as a cached device (same length and last octets) is not taken for it', () => {
    setEmbeddedCertificateCacheSize(4);
    const genuine = check(0); // device 0 is cached, its chain proven
    // Another subject written into device 0's certificate: the same length and the same CA
    // signature at its end (the cache's key), but bytes the CA never signed. The CMS signature
    // does not cover the certificates, so only the chain check can refuse it.
    const der = Buffer.from(headers[0] as string, 'base64');
    const at = der.indexOf('device 0');
    expect(at).toBeGreaterThan(0);
    der.write('device 9', at, 'latin1');
    expect(() =>
      checkMdmSignature(der.toString('base64'), BODY, { roots: [ca.certificate], at: new Date() }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CERT_UNTRUSTED' }));
    expect(check(0)).toBe(genuine); // and the genuine entry is still the device's
  });

  test.each([0, -1, 1.5, Number.NaN])('fail/a size of %p is a TypeError', (n) => {
    expect(() => {
      setEmbeddedCertificateCacheSize(n);
    }).toThrow(TypeError);
  });

  test('ok/--identity-cache and ORCHARD_IDENTITY_CACHE set it; the default is 16384', () => {
    expect(resolveConfig({}, {}).identityCache).toBe(EMBEDDED_CERTIFICATE_CACHE_DEFAULT);
    expect(EMBEDDED_CERTIFICATE_CACHE_DEFAULT).toBe(16_384);
    expect(resolveConfig({ 'identity-cache': '50000' }, {}).identityCache).toBe(50_000);
    expect(resolveConfig({}, { ORCHARD_IDENTITY_CACHE: '200' }).identityCache).toBe(200);
  });

  test.each(['0', '-5', 'lots', '1.5', ''])(
    'fail/--identity-cache %p is refused naming the flag',
    (v) => {
      let error: unknown;
      try {
        resolveConfig({ 'identity-cache': v }, {});
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('--identity-cache');
    },
  );
});
