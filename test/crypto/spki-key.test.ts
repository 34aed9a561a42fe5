import { describe, expect, test } from '@jest/globals';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { certInfo } from '../../src/crypto/cert-info.js';
import { publicKeyDetails, publicKeyFromSpki } from '../../src/crypto/spki-key.js';
import { createTransientCertificate } from '../../src/identity/scep/client.js';

const spkiOf = (k: KeyObject): Buffer => k.export({ format: 'der', type: 'spki' });

const keys: [string, KeyObject][] = [
  ['RSA 2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey],
  [
    'RSA 3072, e=3',
    generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 3 }).publicKey,
  ],
  ['RSA 4096', generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey],
  ['P-256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey],
  ['P-384', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey],
  ['P-521', generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey],
];

describe('publicKeyFromSpki', () => {
  test.each(keys)('ok/%s gives the key the decoder gives', (_n, key) => {
    const fast = publicKeyFromSpki(spkiOf(key));
    expect(fast).toBeDefined();
    expect(fast?.equals(key)).toBe(true);
    expect(spkiOf(fast as KeyObject).equals(spkiOf(key))).toBe(true);
  });

  test.each([
    ...keys,
    [
      'RSA 1031 (a modulus whose top byte is not full)',
      generateKeyPairSync('rsa', { modulusLength: 1031 }).publicKey,
    ],
  ] as [string, KeyObject][])('ok/%s: publicKeyDetails reports what node reports', (_n, key) => {
    const fast = publicKeyFromSpki(spkiOf(key)) as KeyObject;
    const fromNode = createPublicKey({
      key: spkiOf(key),
      format: 'der',
      type: 'spki',
    }).asymmetricKeyDetails;
    const details = publicKeyDetails(fast);
    expect(details.modulusLength).toBe(fromNode?.modulusLength);
    expect(details.namedCurve).toBe(fromNode?.namedCurve);
    // A key built elsewhere is asked of node.
    expect(publicKeyDetails(key)).toEqual(key.asymmetricKeyDetails);
  });

  test('ok/unusual keys are left to the decoder (undefined)', () => {
    const ed = generateKeyPairSync('ed25519').publicKey;
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey;
    const compressed = createPublicKey({
      key: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
        format: 'der',
        type: 'spki',
      }),
      format: 'der',
      type: 'spki',
    });
    expect(publicKeyFromSpki(spkiOf(ed))).toBeUndefined();
    expect(publicKeyFromSpki(spkiOf(pss))).toBeUndefined();
    const small = generateKeyPairSync('rsa', { modulusLength: 512 }).publicKey;
    expect(publicKeyFromSpki(spkiOf(small))).toBeUndefined(); // below 1024 bits: decoder decides
    // An EC point off its curve is refused (the decoder then refuses it too).
    const p256 = Buffer.from(spkiOf(compressed));
    p256[p256.length - 1] = (p256[p256.length - 1] as number) ^ 1;
    expect(publicKeyFromSpki(p256)).toBeUndefined();
    expect(() => createPublicKey({ key: p256, format: 'der', type: 'spki' })).toThrow();
  });

  test('ok/property: on mutated SPKIs it never accepts a key the decoder refuses or reads differently', () => {
    const bases = keys.map(([, k]) => spkiOf(k));
    fc.assert(
      fc.property(
        fc.nat(bases.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        (which, edits) => {
          const spki = Buffer.from(bases[which] as Buffer);
          for (const [pos, value] of edits) spki[pos % spki.length] = value;
          const fast = publicKeyFromSpki(spki);
          if (fast === undefined) return true;
          const slow = createPublicKey({ key: spki, format: 'der', type: 'spki' });
          return fast.equals(slow);
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 500) },
    );
  });
});

describe('certInfo (lazy X509Certificate)', () => {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const cert = createTransientCertificate(key, 'CN=lazy,O=Orchard');

  test('ok/the key read from the SPKI equals the certificate key', () => {
    const info = certInfo(Buffer.from(cert.raw));
    expect(info.publicKey.equals(cert.publicKey)).toBe(true);
    expect(info.x509.raw.equals(cert.raw)).toBe(true);
    expect(certInfo(info.x509)).toBe(info); // the built certificate maps back to the same entry
  });

  test('fail/a certificate with unreadable dates is ERR_CERT_FORMAT before any key is built', () => {
    const bad = Buffer.from(cert.raw);
    const at = bad.indexOf(Buffer.from([0x17, 0x0d])); // the first UTCTime
    bad[at + 4] = 0xff;
    expect(() => certInfo(bad)).toThrow(expect.objectContaining({ code: 'ERR_CERT_FORMAT' }));
  });
});
