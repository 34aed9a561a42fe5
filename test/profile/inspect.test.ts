import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OrchardError } from '../../src/errors.js';
import { PlistReal, encodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { encryptProfile } from '../../src/profile/encrypt.js';
import { inspectProfile, toReadableJson } from '../../src/profile/inspect.js';
import { signProfile } from '../../src/profile/sign.js';
import { createTestPki, sampleProfile, type TestPki } from './sign-fixtures.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(async () => {
  await pki.cleanup();
});

function richProfile(): PlistDict {
  return {
    ...sampleProfile(),
    RemovalDate: new Date('2031-02-03T04:05:06Z'),
    DurationUntilRemoval: new PlistReal(3600),
    Big: 2n ** 60n,
    Blob: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
  };
}

function sign(profile: PlistDict): Buffer {
  return signProfile(profile, {
    certificate: pki.rsaSigner.cert,
    privateKey: pki.rsaSigner.key,
    chain: [pki.intermediate.cert],
  });
}

describe('toReadableJson', () => {
  test('ok/data as base64, dates ISO, big integers as strings, reals as numbers', () => {
    expect(toReadableJson(richProfile())).toMatchObject({
      RemovalDate: '2031-02-03T04:05:06.000Z',
      DurationUntilRemoval: 3600,
      Big: '1152921504606846976',
      Blob: '3q2+7w==',
      PayloadContent: [{ SSID_STR: 'Orchard Corp', AutoJoin: true }, { allowCamera: false }],
    });
  });

  test('ok/a __proto__ key stays data and leaves prototypes alone', () => {
    const dict = JSON.parse('{"__proto__": {"polluted": true}}') as PlistDict;
    const out = toReadableJson(dict) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test.each([
    ['fail/function', () => undefined],
    ['fail/symbol', Symbol('x')],
  ])('%s throws TypeError', (_n, value) => {
    expect(() => toReadableJson(value)).toThrow(TypeError);
  });

  test('fail/cycle throws TypeError', () => {
    const a: unknown[] = [];
    a.push(a);
    expect(() => toReadableJson(a)).toThrow(TypeError);
  });
});

describe('inspectProfile', () => {
  test.each([
    ['ok/plain XML', 'xml'],
    ['ok/plain binary', 'binary'],
  ] as const)('%s', (_n, format) => {
    const r = inspectProfile(encodePlist(richProfile(), { format }));
    expect(r).toMatchObject({ encoding: format, encrypted: false, decrypted: false });
    expect(r.signature).toBeUndefined();
    expect(r.profile.Big).toBe(2n ** 60n);
  });

  test('ok/signed: signer, certificates, trust against the root', () => {
    const r = inspectProfile(sign(sampleProfile()), { roots: [pki.root.cert] });
    expect(r.signature).toMatchObject({ valid: true, trusted: true, digestAlgorithm: 'sha256' });
    expect(r.signature?.signer?.subject).toBe('CN=Orchard Test rsa-signer');
    expect(r.signature?.certificates).toHaveLength(2);
    expect(r.profile).toEqual(sampleProfile());
  });

  test('ok/signed, foreign root: valid signature, untrusted', () => {
    const r = inspectProfile(sign(sampleProfile()), { roots: [pki.foreignRoot.cert] });
    expect(r.signature).toMatchObject({
      valid: true,
      trusted: false,
      trustError: 'ERR_CERT_UNTRUSTED',
    });
  });

  test('ok/tampered: reported invalid, content still shown', () => {
    const signed = sign(sampleProfile());
    signed[signed.indexOf('Orchard Corp')] = 'Z'.charCodeAt(0);
    const r = inspectProfile(signed);
    expect(r.signature).toMatchObject({ valid: false, error: 'ERR_CMS_SIGNATURE' });
    expect(r.signature?.signer).toBeUndefined();
    expect(r.signature?.certificates).toHaveLength(2);
    expect(JSON.stringify(toReadableJson(r.profile))).toContain('Zrchard Corp');
  });

  test('ok/signed and encrypted, with the device key: decrypted', () => {
    const encrypted = encryptProfile(sampleProfile(), { recipient: pki.device.cert });
    const r = inspectProfile(sign(encrypted), {
      privateKey: pki.device.key,
      certificate: pki.device.cert,
    });
    expect(r).toMatchObject({ encrypted: true, decrypted: true });
    expect(r.profile).toEqual(sampleProfile());
  });

  test('ok/encrypted without a key: shown as is', () => {
    const encrypted = encryptProfile(sampleProfile(), { recipient: pki.device.cert });
    const r = inspectProfile(encodePlist(encrypted, { format: 'binary' }));
    expect(r).toMatchObject({ encoding: 'binary', encrypted: true, decrypted: false });
    expect(r.profile.EncryptedPayloadContent).toBeInstanceOf(Uint8Array);
  });

  test.each([
    [
      'fail/wrong device key',
      () =>
        inspectProfile(
          encodePlist(encryptProfile(sampleProfile(), { recipient: pki.device.cert })),
          { privateKey: pki.otherDevice.key, certificate: pki.otherDevice.cert },
        ),
      'ERR_CMS_NO_RECIPIENT',
    ],
    ['fail/neither plist nor CMS', () => inspectProfile(Buffer.from('hello')), 'ERR_DER'],
    [
      'fail/plist that is not a profile',
      () => inspectProfile(encodePlist('just a string')),
      'ERR_PROFILE_FORMAT',
    ],
  ])('%s', (_n, op, code) => {
    let caught: unknown;
    try {
      op();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OrchardError);
    expect([code, 'ERR_CMS_FORMAT']).toContain((caught as OrchardError).code);
  });
});
