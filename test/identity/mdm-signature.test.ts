import { describe, expect, test } from '@jest/globals';
import { CryptoError } from '../../src/errors.js';
import { signCms } from '../../src/crypto/index.js';
import { verifyMdmSignature } from '../../src/identity/mdm-signature.js';
import { makeTmpDir, openssl } from '../support/openssl.js';
import { makeLeaf, testPki } from '../support/pki.js';

const pki = await testPki();
const body = Buffer.from(
  '<?xml version="1.0"?><plist version="1.0"><dict><key>MessageType</key><string>Authenticate</string></dict></plist>',
);

function header(
  id = pki.rsaLeaf,
  options: { digest?: 'sha1' | 'sha256'; content?: Buffer } = {},
): string {
  return signCms(options.content ?? body, {
    certificate: id.certificate,
    privateKey: id.privateKey,
    detached: true,
    digest: options.digest ?? 'sha256',
  }).toString('base64');
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
  return undefined;
}

describe('verifyMdmSignature', () => {
  test.each([
    { name: 'RSA sha256', id: 'rsaLeaf', digest: 'sha256' },
    { name: 'RSA sha1 (simulators)', id: 'rsaLeaf', digest: 'sha1' },
    { name: 'ECDSA P-256', id: 'ecLeaf', digest: 'sha256' },
  ] as const)('ok/$name resolves to the signer', async ({ id, digest }) => {
    const signer = await verifyMdmSignature(header(pki[id], { digest }), body, {
      roots: [pki.rsaCa.certificate, pki.ecCa.certificate],
    });
    expect(signer.raw.equals(pki[id].certificate.raw)).toBe(true);
  });

  test('ok/BER indefinite-length header as devices send (openssl -stream)', async () => {
    const tmp = makeTmpDir();
    try {
      const der = openssl([
        'cms',
        '-sign',
        '-binary',
        '-stream',
        '-outform',
        'DER',
        '-md',
        'sha1',
        '-in',
        tmp.write('b', body),
        '-signer',
        tmp.write('c', pki.rsaLeaf.certPem),
        '-inkey',
        tmp.write('k', pki.rsaLeaf.keyPem),
      ]);
      expect(der[1]).toBe(0x80);
      const signer = await verifyMdmSignature(der.toString('base64'), body, {
        roots: [pki.rsaCa.certificate],
      });
      expect(signer.subject).toContain('rsa-device');
    } finally {
      tmp.remove();
    }
  });

  test('ok/without roots the signature alone is checked', async () => {
    await expect(verifyMdmSignature(header(pki.stranger), body)).resolves.toBeDefined();
  });

  test.each([
    [
      'fail/body altered by one byte',
      () =>
        verifyMdmSignature(header(), Buffer.concat([body.subarray(0, -1), Buffer.from('!')]), {
          roots: [pki.rsaCa.certificate],
        }),
      'ERR_CMS_SIGNATURE',
    ],
    [
      'fail/self-signed signer',
      () => verifyMdmSignature(header(pki.stranger), body, { roots: [pki.rsaCa.certificate] }),
      'ERR_CERT_UNTRUSTED',
    ],
    [
      'fail/other CA',
      () => verifyMdmSignature(header(pki.rsaLeaf), body, { roots: [pki.ecCa.certificate] }),
      'ERR_CERT_UNTRUSTED',
    ],
    [
      'fail/expired signer',
      () =>
        verifyMdmSignature(header(), body, {
          roots: [pki.rsaCa.certificate],
          at: new Date(Date.now() + 800 * 86_400_000),
        }),
      'ERR_CERT_EXPIRED',
    ],
    ['fail/not base64', () => verifyMdmSignature('%%%not-base64%%%', body), 'ERR_CMS_FORMAT'],
    ['fail/empty header', () => verifyMdmSignature('', body), 'ERR_CMS_FORMAT'],
    [
      'fail/base64 of garbage',
      () => verifyMdmSignature(Buffer.from('hello world').toString('base64'), body),
      'ERR_DER',
    ],
    [
      'fail/signature over another body',
      () => verifyMdmSignature(header(pki.rsaLeaf, { content: Buffer.from('other') }), body),
      'ERR_CMS_SIGNATURE',
    ],
  ])('%s', async (_n, fn, code) => {
    expect(await codeOf(fn())).toBe(code);
  });

  test('fail/expired device certificate is refused even when the signature is fine', async () => {
    const old = await makeLeaf(pki.rsaCa, {
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    expect(
      await codeOf(verifyMdmSignature(header(old), body, { roots: [pki.rsaCa.certificate] })),
    ).toBe('ERR_CERT_EXPIRED');
  });

  test('fail/errors are 400 and never 401', async () => {
    try {
      await verifyMdmSignature(header(pki.stranger), body, { roots: [pki.rsaCa.certificate] });
    } catch (error) {
      expect((error as CryptoError).status).toBe(400);
      return;
    }
    throw new Error('expected a rejection');
  });
});
