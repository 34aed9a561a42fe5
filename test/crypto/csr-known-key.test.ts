import { describe, expect, test } from '@jest/globals';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createCsr, parseCsr, type KnownKey } from '../../src/crypto/csr.js';
import { clientKey } from '../identity/scep/helpers.js';

function known(key: KeyObject): KnownKey {
  const publicKey = createPublicKey(key);
  return { spki: publicKey.export({ format: 'der', type: 'spki' }), publicKey };
}

describe('parseCsr with a known key agrees with parseCsr without one', () => {
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
      'ok/with requested extensions',
      createCsr({
        subject: 'CN=a',
        privateKey: rsa,
        extensions: [{ oid: '2.5.29.17', value: Buffer.from([0x30, 0]) }],
      }),
      rsa,
    ],
    [
      'ok/another key than the known one is decoded',
      createCsr({ subject: 'CN=a', privateKey: clientKey('rsa-2048', 1) }),
      rsa,
    ],
  ])('%s', (_name, der, knownKey) => {
    const key = known(knownKey);
    const fast = parseCsr(der, { knownKey: key });
    const core = parseCsr(der);
    expect({ ...fast, publicKey: undefined }).toEqual({ ...core, publicKey: undefined });
    expect(fast.publicKey.equals(core.publicKey)).toBe(true);
    expect(fast.publicKey === key.publicKey).toBe(key.spki.equals(core.spki));
    expect(
      core.publicKey.equals(createPublicKey({ key: core.spki, format: 'der', type: 'spki' })),
    ).toBe(true);
  });

  test('fail/a corrupted signature is reported invalid with a known key', () => {
    const der = Buffer.from(
      createCsr({ subject: 'CN=a', privateKey: rsa, challengePassword: 'pw' }),
    );
    der[der.length - 3] = (der[der.length - 3] as number) ^ 0xff;
    expect(parseCsr(der, { knownKey: known(rsa) }).signatureValid).toBe(false);
    expect(parseCsr(der).signatureValid).toBe(false);
  });

  test('fail/garbage is ERR_CSR_FORMAT', () => {
    expect(() =>
      parseCsr(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), { knownKey: known(rsa) }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CSR_FORMAT' }));
  });
});
