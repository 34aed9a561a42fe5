/**
 * The enrollment profile with the ACME identity payload instead of SCEP: Apple's schema accepts
 * it, the MDM payload names it as its identity, the ClientIdentifier is the download's one-time
 * value, and the SCEP profile is unchanged when no ACME option is given.
 */
import { describe, expect, test } from '@jest/globals';
import { acmePayloadKeys } from '../../src/admin/acme-payload.js';
import {
  buildEnrollmentProfile,
  enrollmentProfileErrors,
} from '../../src/admin/enrollment-profile.js';
import type { PlistDict } from '../../src/protocol/plist.js';
import { testPki } from '../support/pki.js';

const pki = await testPki();
const base = {
  publicUrl: 'https://mdm.example.com',
  topic: 'com.apple.mgmt.External.00000000-0000-4000-8000-000000000001',
  ca: pki.rsaCa.certificate,
  challenge: 'scep-challenge',
};

const payloads = (p: PlistDict) => p.PayloadContent as PlistDict[];

describe('the ACME enrollment profile', () => {
  test('ok/an ACME payload replaces SCEP, passes Apple schema, and is the MDM identity', () => {
    const profile = buildEnrollmentProfile({
      ...base,
      acme: {
        directoryUrl: 'https://mdm.example.com/acme/directory',
        clientIdentifier: 'one-time-1',
      },
    });
    expect(enrollmentProfileErrors(profile, false)).toEqual([]);
    const [, identity, mdm] = payloads(profile);
    expect(identity).toMatchObject({
      PayloadType: 'com.apple.security.acme',
      DirectoryURL: 'https://mdm.example.com/acme/directory',
      ClientIdentifier: 'one-time-1',
      KeyType: 'ECSECPrimeRandom',
      KeySize: 256,
      HardwareBound: true,
      Attest: true,
    });
    expect(mdm?.IdentityCertificateUUID).toBe(identity?.PayloadUUID);
    expect(payloads(profile).some((p) => p.PayloadType === 'com.apple.security.scep')).toBe(false);
    expect(JSON.stringify(profile)).not.toContain('scep-challenge');
  });

  test('ok/P-384 and a software key without attestation pass the schema too', () => {
    for (const acme of [{ keySize: 384 as const }, { hardwareBound: false, attest: false }]) {
      const profile = buildEnrollmentProfile({
        ...base,
        acme: {
          directoryUrl: 'https://mdm.example.com/acme/directory',
          clientIdentifier: 'x',
          ...acme,
        },
      });
      expect(enrollmentProfileErrors(profile, false)).toEqual([]);
    }
  });

  test('fail/Attest without a hardware-bound key is refused', () => {
    expect(() =>
      acmePayloadKeys({
        directoryUrl: 'https://x/acme/directory',
        clientIdentifier: 'x',
        hardwareBound: false,
        subject: [],
      }),
    ).toThrow(TypeError);
  });

  test('ok/without the ACME option the profile is the SCEP one, in the same order with the same UUIDs', () => {
    let n = 0;
    const uuid = () => `00000000-0000-4000-8000-${String(n++).padStart(12, '0')}`;
    const profile = buildEnrollmentProfile({ ...base, uuid });
    const [root, scep, mdm] = payloads(profile);
    expect(scep?.PayloadType).toBe('com.apple.security.scep');
    expect(scep?.PayloadUUID).toBe('00000000-0000-4000-8000-000000000000');
    expect(root?.PayloadUUID).toBe('00000000-0000-4000-8000-000000000001');
    expect(mdm?.IdentityCertificateUUID).toBe(scep?.PayloadUUID);
    expect(enrollmentProfileErrors(profile, false)).toEqual([]);
  });
});
