import { describe, expect, test } from '@jest/globals';
import { parseCertificateHeader } from '../../src/identity/device-identity.js';
import { createTokenSealer } from '../../src/service/bootstrap.js';
import { parseDeclarativeEndpoint } from '../../src/service/declarative.js';
import { createTestCa, issueDeviceIdentity } from '../support/device-pki.js';

describe('createTokenSealer', () => {
  const sealer = createTokenSealer(new Uint8Array(32).fill(1));
  test('ok/round trip, ciphertext differs from plaintext', () => {
    const sealed = sealer.seal('D', Buffer.from('token'));
    expect(Buffer.from(sealed).includes(Buffer.from('token'))).toBe(false);
    expect(Buffer.from(sealer.open('D', sealed)).toString()).toBe('token');
  });
  test.each([
    ['another enrollment', (s: Uint8Array) => sealer.open('E', s)],
    ['another key', (s: Uint8Array) => createTokenSealer(new Uint8Array(32).fill(2)).open('D', s)],
    [
      'one flipped byte',
      (s: Uint8Array) =>
        sealer.open(
          'D',
          Buffer.from(s).map((b, i) => (i === 20 ? b ^ 1 : b)),
        ),
    ],
    ['truncated', (s: Uint8Array) => sealer.open('D', s.subarray(0, 10))],
  ])('fail/open with %s', (_n, open) => {
    const sealed = sealer.seal('D', Buffer.from('token'));
    expect(() => open(sealed)).toThrow(expect.objectContaining({ code: 'ERR_CMS_DECRYPT' }));
  });
  test('fail/key of the wrong size is a TypeError', () => {
    expect(() => createTokenSealer(new Uint8Array(16))).toThrow(TypeError);
  });
});

describe('parseDeclarativeEndpoint', () => {
  test.each(['tokens', 'declaration-items', 'status', 'declaration/configuration/com.example.a'])(
    'ok/%s',
    (e) => {
      expect(parseDeclarativeEndpoint(e).kind).toBe(e.split('/')[0]);
    },
  );
  test.each([
    '',
    'Tokens',
    'declaration/other/x',
    'declaration/asset/../x',
    'declaration/asset/a/b',
    'https://x',
  ])('fail/%j', (e) => {
    expect(() => parseDeclarativeEndpoint(e)).toThrow(
      expect.objectContaining({ code: 'ERR_ENDPOINT' }),
    );
  });
});

describe('parseCertificateHeader', () => {
  test('ok/RFC 9440 and URL-escaped PEM give the same certificate', async () => {
    const id = await issueDeviceIdentity(await createTestCa(), 'x');
    const rfc = parseCertificateHeader(`:${id.certificate.raw.toString('base64')}:`);
    const pem = parseCertificateHeader(encodeURIComponent(id.certificate.toString()));
    expect(rfc.x509.fingerprint256).toBe(id.certificate.fingerprint256);
    expect(pem.x509.fingerprint256).toBe(id.certificate.fingerprint256);
  });
  test.each([':not base64!:', '::', 'garbage', '%E0%A4%A', ':AAAA:'])('fail/%j', (v) => {
    expect(() => parseCertificateHeader(v)).toThrow(
      expect.objectContaining({ code: 'ERR_IDENTITY_HEADER', status: 400 }),
    );
  });
});
