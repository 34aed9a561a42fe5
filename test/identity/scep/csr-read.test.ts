import { describe, expect, test } from '@jest/globals';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createCsr, parseCsr } from '../../../src/crypto/csr.js';
import { readCsr } from '../../../src/identity/scep/csr-read.js';
import { clientKey } from './helpers.js';

function known(key: KeyObject): { spki: Buffer; publicKey: KeyObject } {
  const publicKey = createPublicKey(key);
  return { spki: publicKey.export({ format: 'der', type: 'spki' }), publicKey };
}

describe('readCsr agrees with parseCsr', () => {
  const rsa = clientKey();
  const ec = clientKey('ec-p256');
  test.each([
    [
      'ok/RSA with a UTF-8 challenge',
      createCsr({ subject: 'CN=a,O=b', privateKey: rsa, challengePassword: 'pw' }),
      rsa,
    ],
    [
      'ok/printable challenge',
      createCsr({
        subject: 'CN=a',
        privateKey: rsa,
        challengePassword: 'pw',
        challengeEncoding: 'printable',
      }),
      rsa,
    ],
    ['ok/no challenge', createCsr({ subject: 'CN=a', privateKey: rsa }), rsa],
    ['ok/EC P-256', createCsr({ subject: 'CN=e', privateKey: ec, challengePassword: 'x' }), ec],
    [
      'ok/extensions fall back to the core parser',
      createCsr({
        subject: 'CN=a',
        privateKey: rsa,
        extensions: [{ oid: '2.5.29.17', value: Buffer.from([0x30, 0]) }],
      }),
      rsa,
    ],
    [
      'ok/another key than the known one falls back',
      createCsr({ subject: 'CN=a', privateKey: clientKey('rsa-2048', 1) }),
      rsa,
    ],
  ])('%s', (_name, der, knownKey) => {
    const fast = readCsr(der, known(knownKey));
    const core = parseCsr(der);
    expect({ ...fast, publicKey: undefined }).toEqual({ ...core, publicKey: undefined });
    expect(fast.publicKey.equals(core.publicKey)).toBe(true);
  });

  test('fail/a corrupted signature is reported invalid on the fast path', () => {
    const der = Buffer.from(
      createCsr({ subject: 'CN=a', privateKey: rsa, challengePassword: 'pw' }),
    );
    der[der.length - 3] = (der[der.length - 3] as number) ^ 0xff;
    expect(readCsr(der, known(rsa)).signatureValid).toBe(false);
    expect(parseCsr(der).signatureValid).toBe(false);
  });

  test('fail/garbage is ERR_CSR_FORMAT', () => {
    expect(() => readCsr(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), known(rsa))).toThrow(
      expect.objectContaining({ code: 'ERR_CSR_FORMAT' }),
    );
  });
});
