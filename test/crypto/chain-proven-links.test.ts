/**
 * Proven issuer links (issue 20's hot path): a certificate's signature under its issuer's key is
 * verified once and remembered by both fingerprints. What must not change: an impostor with the
 * same names is refused, dates are checked on every call, and refused links are not remembered.
 */
import { describe, expect, test } from '@jest/globals';
import { provenLinkCount, verifyCertificateChain } from '../../src/crypto/chain.js';
import { codeOf } from '../support/errors.js';
import { createTestCa, issueDeviceIdentity } from '../support/device-pki.js';

const AT = new Date('2026-12-07T00:00:00Z');
const DAY = 86_400_000;

describe('proven issuer links', () => {
  test('ok/a second verification of the same leaf proves nothing again', async () => {
    const ca = await createTestCa('Links CA 1', AT);
    const leaf = await issueDeviceIdentity(ca, 'device-1', { at: AT });
    const before = provenLinkCount();
    const chain = verifyCertificateChain(leaf.certificate, { roots: [ca.certificate], at: AT });
    expect(chain.map((c) => c.subject)).toEqual([leaf.certificate.subject, ca.certificate.subject]);
    expect(provenLinkCount()).toBe(before + 1);
    verifyCertificateChain(leaf.certificate, { roots: [ca.certificate], at: AT });
    expect(provenLinkCount()).toBe(before + 1);
  });

  test('fail/an impostor CA with the same name cannot ride on a proven link', async () => {
    const real = await createTestCa('Links CA 2', AT);
    const impostor = await createTestCa('Links CA 2', AT);
    const good = await issueDeviceIdentity(real, 'device-2', { at: AT });
    const forged = await issueDeviceIdentity(impostor, 'device-2', { at: AT });
    verifyCertificateChain(good.certificate, { roots: [real.certificate], at: AT });
    expect(forged.certificate.subject).toBe(good.certificate.subject);
    expect(forged.certificate.issuer).toBe(good.certificate.issuer);
    expect(
      codeOf(() =>
        verifyCertificateChain(forged.certificate, { roots: [real.certificate], at: AT }),
      ),
    ).toBe('ERR_CERT_UNTRUSTED');
  });

  test('fail/a proven leaf is refused once it has expired (dates checked every time)', async () => {
    const ca = await createTestCa('Links CA 3', AT);
    const leaf = await issueDeviceIdentity(ca, 'device-3', { at: AT, days: 2 });
    verifyCertificateChain(leaf.certificate, { roots: [ca.certificate], at: AT });
    const later = new Date(AT.getTime() + 3 * DAY);
    expect(
      codeOf(() =>
        verifyCertificateChain(leaf.certificate, { roots: [ca.certificate], at: later }),
      ),
    ).toBe('ERR_CERT_EXPIRED');
  });

  test('fail/refused links are not remembered, so junk cannot fill the memory', async () => {
    const real = await createTestCa('Links CA 4', AT);
    const other = await createTestCa('Links CA 4 other', AT);
    const stranger = await issueDeviceIdentity(other, 'device-4', { at: AT });
    const before = provenLinkCount();
    for (let i = 0; i < 3; i++)
      expect(
        codeOf(() =>
          verifyCertificateChain(stranger.certificate, { roots: [real.certificate], at: AT }),
        ),
      ).toBe('ERR_CERT_UNTRUSTED');
    expect(provenLinkCount()).toBe(before);
  });
});
