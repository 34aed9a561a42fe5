/**
 * The one certificate builder, checked by readers that are not ours: node:crypto (OpenSSL) and
 * pkijs 4, which parses the DER and verifies the signature through WebCrypto.
 */
import { describe, expect, test } from '@jest/globals';
import * as pkijs from 'pkijs';
import { generateKeyPairSync, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { buildCertificate, type CertificateFields } from '../../src/crypto/certificate-builder.js';
import {
  basicConstraintsValue,
  extension,
  keyUsageValue,
  subjectAltNameValue,
} from '../../src/crypto/extensions.js';
import { encodeName } from '../../src/crypto/name.js';
import { Oid } from '../../src/crypto/oids.js';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto }));

type KeySpec = ['rsa', { modulusLength: number }] | ['ec', { namedCurve: string }];
const keys: [string, KeySpec][] = [
  ['RSA-2048', ['rsa', { modulusLength: 2048 }]],
  ['P-256', ['ec', { namedCurve: 'P-256' }]],
  ['P-384', ['ec', { namedCurve: 'P-384' }]],
  ['P-521', ['ec', { namedCurve: 'P-521' }]],
];

function keyPair(spec: KeySpec): { privateKey: KeyObject; publicKey: KeyObject } {
  return spec[0] === 'rsa'
    ? generateKeyPairSync('rsa', spec[1])
    : generateKeyPairSync('ec', spec[1]);
}

function selfSigned(
  pair: { privateKey: KeyObject; publicKey: KeyObject },
  extra: Partial<CertificateFields> = {},
): Buffer {
  const name = encodeName('CN=Builder Test,O=Orchard');
  return buildCertificate({
    serial: Buffer.from('0102030405060708', 'hex'),
    issuerName: name,
    subjectName: name,
    spki: pair.publicKey.export({ format: 'der', type: 'spki' }),
    notBefore: new Date('2030-01-01T00:00:00Z'),
    notAfter: new Date('2031-01-01T00:00:00Z'),
    extensions: [
      extension(Oid.basicConstraints, true, basicConstraintsValue(true, 0)),
      extension(Oid.keyUsage, true, keyUsageValue(['keyCertSign', 'digitalSignature'])),
      extension(
        Oid.subjectAltName,
        false,
        subjectAltNameValue([
          { type: 'uri', value: 'urn:uuid:00000000-0000-4000-8000-000000000000' },
        ]),
      ),
    ],
    signingKey: pair.privateKey,
    ...extra,
  });
}

function pkijsCertificate(der: Buffer): pkijs.Certificate {
  return pkijs.Certificate.fromBER(
    der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength),
  );
}

describe('buildCertificate', () => {
  test.each(keys)('ok/%s: pkijs and OpenSSL read it and verify its signature', async (_n, spec) => {
    const pair = keyPair(spec);
    const der = selfSigned(pair);
    const node = new X509Certificate(der);
    expect(node.verify(pair.publicKey)).toBe(true);
    expect(node.serialNumber).toBe('0102030405060708');
    expect(node.subjectAltName).toBe('URI:urn:uuid:00000000-0000-4000-8000-000000000000');
    const cert = pkijsCertificate(der);
    expect(cert.version).toBe(2);
    expect(cert.notBefore.value.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(cert.extensions?.map((e) => [e.extnID, e.critical])).toEqual([
      [Oid.basicConstraints, true],
      [Oid.keyUsage, true],
      [Oid.subjectAltName, false],
    ]);
    expect(await cert.verify()).toBe(true);
  });

  test('ok/serials are minimal positive INTEGERs; dates from 2050 are GeneralizedTime', () => {
    const pair = keyPair(['ec', { namedCurve: 'P-256' }]);
    const high = new X509Certificate(
      selfSigned(pair, {
        serial: Buffer.from('0000ff01', 'hex'),
        notAfter: new Date('2051-06-01T12:00:00Z'),
      }),
    );
    expect(high.serialNumber).toBe('FF01');
    expect(high.raw.includes(Buffer.from([0x02, 0x03, 0x00, 0xff, 0x01]))).toBe(true);
    expect(new Date(high.validTo).toISOString()).toBe('2051-06-01T12:00:00.000Z');
    expect(high.raw.includes(Buffer.from('20510601120000Z', 'latin1'))).toBe(true);
  });

  test('ok/no extensions field when there are none', () => {
    const pair = keyPair(['ec', { namedCurve: 'P-256' }]);
    expect(pkijsCertificate(selfSigned(pair, { extensions: [] })).extensions).toBeUndefined();
  });

  test.each([
    ['fail/an Ed25519 key cannot sign certificates', generateKeyPairSync('ed25519').privateKey],
    [
      'fail/a P-192 key cannot sign certificates',
      generateKeyPairSync('ec', { namedCurve: 'prime192v1' }).privateKey,
    ],
  ])('%s', (_n, signingKey) => {
    const pair = keyPair(['ec', { namedCurve: 'P-256' }]);
    expect(() => selfSigned(pair, { signingKey })).toThrow(TypeError);
  });
});
