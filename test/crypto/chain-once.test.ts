/**
 * `verifyCertificateChainOnce` (issue 20's hot path): a leaf already verified against the same
 * trust-anchor list is accepted again without rebuilding its path, but only while every
 * certificate of that path is within its dates, and only for that list of roots. What an
 * attacker would try: another CA's leaf, a leaf after expiry or before validity, a root list the
 * leaf was never verified against, and a CA whose own validity ended.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { provenLinkCount, verifyCertificateChainOnce } from '../../src/crypto/chain.js';
import { codeOf } from '../support/errors.js';
import { createTestCa, issueDeviceIdentity } from '../support/device-pki.js';

const AT = new Date('2026-12-07T00:00:00Z');
const DAY = 86_400_000;
const at = (days: number): Date => new Date(AT.getTime() + days * DAY);

describe('verifyCertificateChainOnce', () => {
  test('ok/a verified leaf is accepted again without proving a link again', async () => {
    const ca = await createTestCa('Once CA 1', AT);
    const leaf = await issueDeviceIdentity(ca, 'once-1', { at: AT });
    const roots = [ca.certificate];
    verifyCertificateChainOnce(leaf.certificate, { roots, at: AT });
    const links = provenLinkCount();
    for (let i = 0; i < 5; i++) verifyCertificateChainOnce(leaf.certificate, { roots, at: at(1) });
    expect(provenLinkCount()).toBe(links);
  });

  test('fail/a remembered leaf is refused once it has expired, and before its validity', async () => {
    const ca = await createTestCa('Once CA 2', AT);
    const leaf = await issueDeviceIdentity(ca, 'once-2', { at: AT, days: 2 });
    const roots = [ca.certificate];
    verifyCertificateChainOnce(leaf.certificate, { roots, at: AT });
    expect(
      codeOf(() => {
        verifyCertificateChainOnce(leaf.certificate, { roots, at: at(3) });
      }),
    ).toBe('ERR_CERT_EXPIRED');
    expect(
      codeOf(() => {
        verifyCertificateChainOnce(leaf.certificate, { roots, at: at(-30) });
      }),
    ).toBe('ERR_CERT_NOT_YET_VALID');
    // and still accepted inside its dates afterwards
    verifyCertificateChainOnce(leaf.certificate, { roots, at: at(1) });
  });

  test('fail/the root list is part of the key: a leaf verified for one CA is not trusted by another list', async () => {
    const ca = await createTestCa('Once CA 3', AT);
    const other = await createTestCa('Once CA 3 other', AT);
    const leaf = await issueDeviceIdentity(ca, 'once-3', { at: AT });
    verifyCertificateChainOnce(leaf.certificate, { roots: [ca.certificate], at: AT });
    expect(
      codeOf(() => {
        verifyCertificateChainOnce(leaf.certificate, { roots: [other.certificate], at: AT });
      }),
    ).toBe('ERR_CERT_UNTRUSTED');
  });

  test('fail/a leaf of another CA with the same names is refused, remembered or not', async () => {
    const real = await createTestCa('Once CA 4', AT);
    const impostor = await createTestCa('Once CA 4', AT);
    const roots = [real.certificate];
    const good = await issueDeviceIdentity(real, 'once-4', { at: AT });
    const forged = await issueDeviceIdentity(impostor, 'once-4', { at: AT });
    verifyCertificateChainOnce(good.certificate, { roots, at: AT });
    for (let i = 0; i < 2; i++)
      expect(
        codeOf(() => {
          verifyCertificateChainOnce(forged.certificate, { roots, at: AT });
        }),
      ).toBe('ERR_CERT_UNTRUSTED');
    // the same bytes as another object are verified on their own (the key is the object)
    const copy = new X509Certificate(good.certificate.raw);
    verifyCertificateChainOnce(copy, { roots, at: AT });
  });

  test('fail/the path window ends with the CA: a leaf outliving its CA is refused after the CA expires', async () => {
    const ca = await createTestCa('Once CA 5', AT, { days: 3 });
    const leaf = await issueDeviceIdentity(ca, 'once-5', { at: AT, days: 30 });
    const roots = [ca.certificate];
    verifyCertificateChainOnce(leaf.certificate, { roots, at: AT });
    expect(
      codeOf(() => {
        verifyCertificateChainOnce(leaf.certificate, { roots, at: at(10) });
      }),
    ).toBe('ERR_CERT_EXPIRED');
  });
});
