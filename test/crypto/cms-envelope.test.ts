import { describe, expect, test } from '@jest/globals';
import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { CryptoError } from '../../src/errors.js';
import { decryptCms, encryptCms } from '../../src/crypto/index.js';
import { decryptPkcs1v15 } from '../../src/crypto/rsa-pkcs1.js';
import { makeLeaf, testPki } from '../support/pki.js';

const pki = await testPki();
const other = await makeLeaf(pki.rsaCa, { subject: 'CN=other-recipient' });
const secret = Buffer.from('a profile payload that must stay secret');

function messageOf(fn: () => Buffer): string {
  try {
    return fn().equals(secret) ? 'SECRET' : 'garbage';
  } catch (error) {
    return `${(error as CryptoError).code}: ${(error as Error).message}`;
  }
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

/** RSA encryption of a hand-made encoded message `em` (k bytes) with the raw public key. */
function rawEncrypt(em: Buffer): Buffer {
  return publicEncrypt(
    { key: pki.rsaLeaf.certificate.publicKey, padding: constants.RSA_NO_PADDING },
    em,
  );
}

describe('encryptCms / decryptCms', () => {
  test.each([
    { keyTransport: 'rsa-pkcs1', cipher: 'aes-128-cbc' },
    { keyTransport: 'rsa-pkcs1', cipher: 'aes-256-cbc' },
    { keyTransport: 'rsa-oaep', cipher: 'aes-128-cbc' },
    { keyTransport: 'rsa-oaep', cipher: 'aes-256-cbc' },
  ] as const)('ok/round trip $keyTransport $cipher', (options) => {
    const der = encryptCms(secret, [pki.rsaLeaf.certificate, other.certPem], options);
    expect(
      decryptCms(der, {
        privateKey: pki.rsaLeaf.privateKey,
        certificate: pki.rsaLeaf.certificate,
      }).equals(secret),
    ).toBe(true);
    expect(
      decryptCms(der, { privateKey: other.keyPem, certificate: other.certificate }).equals(secret),
    ).toBe(true);
  });

  // A wrong key makes AES-CBC fail its padding check except about 1 time in 256, when CMS
  // (which has no MAC) yields garbage: so check many envelopes, never the secret, mostly errors.
  test.each(['rsa-pkcs1', 'rsa-oaep'] as const)('fail/wrong key (%s)', (keyTransport) => {
    const outcomes = Array.from({ length: 20 }, () => {
      const der = encryptCms(secret, pki.rsaLeaf.certificate, { keyTransport });
      try {
        return decryptCms(der, { privateKey: other.privateKey }).equals(secret)
          ? 'SECRET'
          : 'garbage';
      } catch (error) {
        return (error as CryptoError).code;
      }
    });
    expect(outcomes).not.toContain('SECRET');
    expect(outcomes.filter((o) => o === 'ERR_CMS_DECRYPT').length).toBeGreaterThanOrEqual(17);
    expect(outcomes.every((o) => o === 'ERR_CMS_DECRYPT' || o === 'garbage')).toBe(true);
  });

  test.each([
    [
      'fail/not a recipient',
      () =>
        decryptCms(encryptCms(secret, pki.rsaLeaf.certificate), {
          privateKey: other.privateKey,
          certificate: other.certificate,
        }),
      'ERR_CMS_NO_RECIPIENT',
    ],
    ['fail/EC recipient', () => encryptCms(secret, pki.ecLeaf.certificate), 'ERR_CMS_UNSUPPORTED'],
    [
      'fail/garbage',
      // Fixed bytes: random ones start with a SEQUENCE header now and then, which parses as DER
      // and fails later with ERR_CMS_FORMAT, a failure for no real reason.
      () => decryptCms(Buffer.alloc(64, 0xff), { privateKey: other.privateKey }),
      'ERR_DER',
    ],
    [
      'fail/signed data is not enveloped',
      () =>
        decryptCms(Buffer.from('300d06092a864886f70d010702a000', 'hex'), {
          privateKey: other.privateKey,
        }),
      'ERR_CMS_FORMAT',
    ],
  ])('%s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  test('fail/bad padding fails like a wrong key, with the same error', () => {
    const forgedOutcomes: string[] = [];
    const wrongKeyOutcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const der = encryptCms(secret, pki.rsaLeaf.certificate);
      const em = Buffer.alloc(256, 0x11 + i);
      em[0] = 0;
      em[1] = 1; // block type 1 is a signature block: bad padding for decryption
      em[256 - 33] = 0;
      const at = der.indexOf(Buffer.from([0x04, 0x82, 0x01, 0x00])) + 4;
      const tampered = Buffer.from(der);
      rawEncrypt(em).copy(tampered, at);
      forgedOutcomes.push(
        messageOf(() => decryptCms(tampered, { privateKey: pki.rsaLeaf.privateKey })),
      );
      wrongKeyOutcomes.push(messageOf(() => decryptCms(der, { privateKey: other.privateKey })));
    }
    const typical = 'ERR_CMS_DECRYPT: the envelope could not be decrypted with this key';
    expect(forgedOutcomes.filter((o) => o === typical).length).toBeGreaterThanOrEqual(8);
    expect(wrongKeyOutcomes.filter((o) => o === typical).length).toBeGreaterThanOrEqual(8);
    expect(
      new Set([...forgedOutcomes, ...wrongKeyOutcomes].filter((o) => o !== 'garbage')),
    ).toEqual(new Set([typical]));
  });
});

describe('decryptPkcs1v15 (implicit rejection)', () => {
  const key = pki.rsaLeaf.privateKey;
  test('ok/valid padding returns the message', () => {
    const msg = randomBytes(32);
    const c = publicEncrypt(
      { key: pki.rsaLeaf.certificate.publicKey, padding: constants.RSA_PKCS1_PADDING },
      msg,
    );
    expect(decryptPkcs1v15(key, c, 32).equals(msg)).toBe(true);
  });

  test.each([
    ['wrong block type', (em: Buffer) => void (em[1] = 1)],
    ['nonzero first byte', (em: Buffer) => void (em[0] = 1)],
    ['no zero separator', (em: Buffer) => void em.fill(0x22, 2)],
    ['padding shorter than 8 bytes', (em: Buffer) => void (em[5] = 0)],
    [
      'message of another length',
      (em: Buffer) => void ((em[em.length - 33] = 0x22), (em[em.length - 17] = 0)),
    ],
  ])('ok/%s gives a deterministic synthetic key', (_name, mutate) => {
    const em = Buffer.alloc(256, 0x33);
    em[0] = 0;
    em[1] = 2;
    em[256 - 33] = 0;
    mutate(em);
    const c = rawEncrypt(em);
    const a = decryptPkcs1v15(key, c, 32);
    const b = decryptPkcs1v15(key, c, 32);
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(em.subarray(256 - 32))).toBe(false);
    const c2 = rawEncrypt(Buffer.concat([em.subarray(0, 255), Buffer.from([0x34])]));
    expect(decryptPkcs1v15(key, c2, 32).equals(a)).toBe(false);
  });

  test('fail/non-RSA key is API misuse', () => {
    expect(() => decryptPkcs1v15(pki.ecLeaf.privateKey, Buffer.alloc(32), 16)).toThrow(TypeError);
  });
});
