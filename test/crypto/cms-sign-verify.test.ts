import { describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { CryptoError } from '../../src/errors.js';
import {
  createCertsOnlyCms,
  parseSignedData,
  signCms,
  verifyCms,
  type DigestName,
} from '../../src/crypto/index.js';
import { certInfoFromDer } from '../../src/crypto/cert-info.js';
import { Oid } from '../../src/crypto/oids.js';
import { printableString } from '../../src/crypto/der-write.js';
import { makeLeaf, testPki, type TestPki } from '../support/pki.js';

const pki: TestPki = await testPki();
const content = Buffer.from('<?xml version="1.0"?><plist><dict/></plist>\n');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

describe('signCms / verifyCms round trip', () => {
  const leaves = ['rsaLeaf', 'ecLeaf', 'p384Leaf'] as const;
  const digests: DigestName[] = ['sha1', 'sha256', 'sha384', 'sha512'];
  const cases = leaves.flatMap((leaf) =>
    digests.flatMap((digest) => [true, false].map((detached) => ({ leaf, digest, detached }))),
  );
  test.each(cases)('ok/$leaf $digest detached=$detached', ({ leaf, digest, detached }) => {
    const id = pki[leaf];
    const der = signCms(content, {
      certificate: id.certificate,
      privateKey: id.privateKey,
      digest,
      detached,
    });
    const v = verifyCms(der, detached ? { content } : {});
    expect(v.content.equals(content)).toBe(true);
    expect(v.signer.raw.equals(id.certificate.raw)).toBe(true);
    expect(v.digestAlgorithm).toBe(digest);
    expect(v.signedAttributes.map((a) => a.oid)).toEqual(
      expect.arrayContaining([Oid.contentType, Oid.messageDigest, Oid.signingTime]),
    );
    expect(parseSignedData(der).content === undefined).toBe(detached);
  });

  test('ok/no signed attributes', () => {
    const der = signCms(content, {
      certificate: pki.ecLeaf.certificate,
      privateKey: pki.ecLeaf.keyPem,
      noAttributes: true,
    });
    const v = verifyCms(der);
    expect(v.signedAttributes).toEqual([]);
    expect(v.content.equals(content)).toBe(true);
  });

  test('ok/extra signed attributes and fixed signing time come back', () => {
    const at = new Date('2030-01-02T03:04:05Z');
    const der = signCms(content, {
      certificate: pki.rsaLeaf.certPem,
      privateKey: pki.rsaLeaf.privateKey,
      signingTime: at,
      signedAttributes: [{ oid: '2.16.840.1.113733.1.9.2', values: [printableString('19')] }],
    });
    const v = verifyCms(der);
    const scep = v.signedAttributes.find((a) => a.oid === '2.16.840.1.113733.1.9.2');
    expect(Buffer.from(scep!.values[0]!).equals(printableString('19'))).toBe(true);
    const time = v.signedAttributes.find((a) => a.oid === Oid.signingTime);
    expect(Buffer.from(time!.values[0]!).toString('latin1')).toContain('300102030405Z');
  });

  test('ok/signingTime false leaves it out', () => {
    const der = signCms(content, {
      certificate: pki.rsaLeaf.certificate,
      privateKey: pki.rsaLeaf.privateKey,
      signingTime: false,
    });
    expect(verifyCms(der).signedAttributes.map((a) => a.oid)).not.toContain(Oid.signingTime);
  });

  test('ok/cacheCertificates false reads the signer without storing it; the default stores it', async () => {
    const leaf = await makeLeaf(pki.rsaCa, { subject: 'CN=one-off,O=Orchard' });
    const der = signCms(content, { certificate: leaf.certificate, privateKey: leaf.privateKey });
    const once = verifyCms(der, { cacheCertificates: false });
    expect(once.content.equals(content)).toBe(true);
    const cached = certInfoFromDer(leaf.certificate.raw);
    expect(cached).not.toBe(once.signerInfo);
    expect(verifyCms(der).signerInfo).toBe(cached);
    expect(verifyCms(der, { cacheCertificates: false }).signerInfo).not.toBe(cached);
  });

  test('ok/chain is embedded and verified to the root', () => {
    const der = signCms(content, {
      certificate: pki.chainedLeaf.certificate,
      privateKey: pki.chainedLeaf.privateKey,
      chain: [pki.intermediate.certificate],
    });
    const v = verifyCms(der, { roots: [pki.rsaCa.certificate] });
    expect(v.certificates).toHaveLength(2);
    expect(v.chain?.map((c) => c.subject)).toEqual([
      pki.chainedLeaf.certificate.subject,
      pki.intermediate.certificate.subject,
      pki.rsaCa.certificate.subject,
    ]);
  });
});

describe('verifyCms failures', () => {
  const signed = signCms(content, {
    certificate: pki.rsaLeaf.certificate,
    privateKey: pki.rsaLeaf.privateKey,
  });
  const detached = signCms(content, {
    certificate: pki.ecLeaf.certificate,
    privateKey: pki.ecLeaf.privateKey,
    detached: true,
  });

  function flipLast(buf: Buffer): Buffer {
    const copy = Buffer.from(buf);
    copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0x01;
    return copy;
  }

  test.each([
    [
      'fail/tampered detached content',
      () => verifyCms(detached, { content: Buffer.concat([content, Buffer.from(' ')]) }),
      'ERR_CMS_SIGNATURE',
    ],
    ['fail/tampered signature', () => verifyCms(flipLast(signed)), 'ERR_CMS_SIGNATURE'],
    [
      'fail/tampered embedded content',
      () => {
        const copy = Buffer.from(signed);
        const at = copy.indexOf(content);
        copy[at + 3] = (copy[at + 3] as number) ^ 0x20;
        return verifyCms(copy);
      },
      'ERR_CMS_SIGNATURE',
    ],
    [
      'fail/attached content differs from given',
      () => verifyCms(signed, { content: Buffer.from('other') }),
      'ERR_CMS_SIGNATURE',
    ],
    [
      'fail/untrusted root',
      () => verifyCms(signed, { roots: [pki.ecCa.certificate] }),
      'ERR_CERT_UNTRUSTED',
    ],
    [
      'fail/intermediate missing',
      () =>
        verifyCms(
          signCms(content, {
            certificate: pki.chainedLeaf.certificate,
            privateKey: pki.chainedLeaf.privateKey,
          }),
          { roots: [pki.rsaCa.certificate] },
        ),
      'ERR_CERT_UNTRUSTED',
    ],
    [
      'fail/signed after expiry',
      () =>
        verifyCms(signed, {
          roots: [pki.rsaCa.certificate],
          at: new Date(Date.now() + 400 * 86_400_000),
        }),
      'ERR_CERT_EXPIRED',
    ],
    [
      'fail/signed before validity',
      () => verifyCms(signed, { at: new Date('2001-01-01T00:00:00Z') }),
      'ERR_CERT_NOT_YET_VALID',
    ],
    ['fail/not CMS', () => verifyCms(Buffer.from('hello')), 'ERR_DER'],
    [
      'fail/enveloped is not signed',
      () => verifyCms(Buffer.from('3010060b2a864886f70d0109100101a000', 'hex').subarray(0, 18)),
      'ERR_DER',
    ],
    [
      'fail/certs-only has no signer',
      () => verifyCms(createCertsOnlyCms([pki.rsaCa.certificate]), { content }),
      'ERR_CMS_FORMAT',
    ],
    ['fail/truncated', () => verifyCms(signed.subarray(0, signed.length - 10)), 'ERR_DER'],
  ])('%s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  test('fail/signer certificate swapped for another with the same issuer and serial', async () => {
    const twin = await makeLeaf(pki.rsaCa, {
      subject: 'CN=rsa-devicX,O=Orchard',
      serialNumber: BigInt(`0x${pki.rsaLeaf.certificate.serialNumber}`),
    });
    const copy = Buffer.from(signed);
    const at = copy.indexOf(pki.rsaLeaf.certificate.raw);
    expect(twin.certificate.raw.length).toBe(pki.rsaLeaf.certificate.raw.length);
    twin.certificate.raw.copy(copy, at);
    expect(codeOf(() => verifyCms(copy))).toBe('ERR_CMS_SIGNATURE');
  });

  test('fail/tampered certificate bytes', () => {
    const copy = Buffer.from(signed);
    const at = copy.indexOf(pki.rsaLeaf.certificate.raw);
    copy[at + 100] = (copy[at + 100] as number) ^ 0xff;
    expect(['ERR_CMS_SIGNATURE', 'ERR_CERT_FORMAT']).toContain(codeOf(() => verifyCms(copy)));
  });

  test('fail/random garbage never throws anything but CryptoError', () => {
    for (let i = 0; i < 200; i++) {
      const copy = Buffer.from(signed);
      for (let j = 0; j < 4; j++)
        copy[Math.floor(Math.random() * copy.length)] = randomBytes(1)[0]!;
      const code = codeOf(() => verifyCms(copy));
      if (code !== undefined) expect(code).toMatch(/^ERR_(DER|CMS_|CERT_)/);
    }
  });
});

describe('createCertsOnlyCms', () => {
  test('ok/degenerate SignedData holds the certificates', () => {
    const der = createCertsOnlyCms([pki.rsaCa.certificate, pki.intermediate.certPem]);
    const parsed = parseSignedData(der);
    expect(parsed.signerInfos).toEqual([]);
    expect(parsed.certificates).toHaveLength(2);
  });
  test('fail/empty list is API misuse', () => {
    expect(() => createCertsOnlyCms([])).toThrow(TypeError);
  });
});
