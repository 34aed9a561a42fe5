/** Cross-check with a second CMS library (pkijs 4 / asn1js 4); only DER bytes cross the boundary. */
import { describe, expect, test } from '@jest/globals';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { webcrypto } from 'node:crypto';
import { signCms, verifyCms } from '../../src/crypto/index.js';
import { testPki } from '../support/pki.js';

const pki = await testPki();
const engine = new pkijs.CryptoEngine({
  name: 'node',
  crypto: webcrypto,
});
pkijs.setEngine('node', engine);
const content = Buffer.from('cross-library content');

function ab(buf: Uint8Array): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

describe('pkijs interop', () => {
  test.each(['rsaLeaf', 'ecLeaf'] as const)('ok/pkijs verifies our %s SignedData', async (leaf) => {
    const der = signCms(content, {
      certificate: pki[leaf].certificate,
      privateKey: pki[leaf].privateKey,
    });
    const info = pkijs.ContentInfo.fromBER(ab(der));
    const signed = new pkijs.SignedData({ schema: info.content });
    const ok = await signed.verify({ signer: 0, checkChain: false });
    expect(ok).toBe(true);
  });

  test('fail/pkijs rejects our signature after tampering', async () => {
    const der = signCms(content, {
      certificate: pki.rsaLeaf.certificate,
      privateKey: pki.rsaLeaf.privateKey,
    });
    der[der.length - 3] = (der[der.length - 3] as number) ^ 1;
    const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(ab(der)).content });
    expect(await signed.verify({ signer: 0, checkChain: false }).catch(() => false)).toBe(false);
  });

  test('ok/we verify a pkijs-made SignedData (RSA, signed attributes)', async () => {
    const id = pki.rsaLeaf;
    const cert = pkijs.Certificate.fromBER(ab(id.certificate.raw));
    const key = await webcrypto.subtle.importKey(
      'pkcs8',
      id.privateKey.export({ format: 'der', type: 'pkcs8' }),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const digest = await webcrypto.subtle.digest('SHA-256', content);
    const signed = new pkijs.SignedData({
      version: 1,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({
        eContentType: '1.2.840.113549.1.7.1',
        eContent: new asn1js.OctetString({ valueHex: ab(content) }),
      }),
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({
            issuer: cert.issuer,
            serialNumber: cert.serialNumber,
          }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({
            type: 0,
            attributes: [
              new pkijs.Attribute({
                type: '1.2.840.113549.1.9.3',
                values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })],
              }),
              new pkijs.Attribute({
                type: '1.2.840.113549.1.9.4',
                values: [new asn1js.OctetString({ valueHex: digest })],
              }),
            ],
          }),
        }),
      ],
      certificates: [cert],
    });
    await signed.sign(key, 0, 'SHA-256');
    const der = new pkijs.ContentInfo({
      contentType: '1.2.840.113549.1.7.2',
      content: signed.toSchema(true),
    })
      .toSchema()
      .toBER(false);
    const v = verifyCms(Buffer.from(der), { roots: [pki.rsaCa.certificate] });
    expect(v.content.equals(content)).toBe(true);
    expect(v.signer.raw.equals(id.certificate.raw)).toBe(true);
  });
});
