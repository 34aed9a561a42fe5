/** Interop with the openssl CLI (OpenSSL 3.0), both directions. */
import { afterAll, describe, expect, test } from '@jest/globals';
import { CryptoError } from '../../src/errors.js';
import { decryptCms, encryptCms, signCms, verifyCms } from '../../src/crypto/index.js';
import { readDer } from '../../src/crypto/der.js';
import { makeTmpDir, openssl, runOpenssl } from '../support/openssl.js';
import { testPki, type TestIdentity } from '../support/pki.js';

const pki = await testPki();
const tmp = makeTmpDir();
afterAll(() => {
  tmp.remove();
});
const body = Buffer.from(
  '<?xml version="1.0"?>\n<plist version="1.0"><dict><key>Status</key><string>Idle</string></dict></plist>\n',
);
tmp.write('body', body);
tmp.write('roots.pem', pki.rsaCa.certPem + pki.ecCa.certPem);

function files(name: string, id: TestIdentity): { cert: string; key: string } {
  return { cert: tmp.write(`${name}.crt`, id.certPem), key: tmp.write(`${name}.key`, id.keyPem) };
}
const ids = {
  rsa: files('rsa', pki.rsaLeaf),
  ec: files('ec', pki.ecLeaf),
  p384: files('p384', pki.p384Leaf),
};

describe('openssl cms -verify accepts our signatures', () => {
  test.each([
    { key: 'rsa', detached: false },
    { key: 'rsa', detached: true },
    { key: 'ec', detached: false },
    { key: 'ec', detached: true },
    { key: 'p384', detached: true },
  ] as const)('ok/$key detached=$detached', ({ key, detached }) => {
    const id = key === 'rsa' ? pki.rsaLeaf : key === 'ec' ? pki.ecLeaf : pki.p384Leaf;
    const der = signCms(body, { certificate: id.certificate, privateKey: id.privateKey, detached });
    const path = tmp.write(`ours-${key}-${detached}.der`, der);
    const args = [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      path,
      '-CAfile',
      tmp.path('roots.pem'),
      '-purpose',
      'any',
    ];
    if (detached) args.push('-content', tmp.path('body'));
    expect(openssl(args).equals(body)).toBe(true);
  });

  test('fail/openssl rejects our signature over other content', () => {
    const der = signCms(body, {
      certificate: pki.rsaLeaf.certificate,
      privateKey: pki.rsaLeaf.privateKey,
      detached: true,
    });
    const path = tmp.write('ours-other.der', der);
    tmp.write('other', 'other body');
    const r = runOpenssl([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      path,
      '-content',
      tmp.path('other'),
      '-CAfile',
      tmp.path('roots.pem'),
      '-purpose',
      'any',
    ]);
    expect(r.status).not.toBe(0);
  });
});

describe('we verify openssl cms -sign output', () => {
  test.each([
    { name: 'rsa attached sha256', key: 'rsa', extra: ['-nodetach'], detached: false },
    { name: 'rsa detached', key: 'rsa', extra: [], detached: true },
    { name: 'rsa sha1 detached', key: 'rsa', extra: ['-md', 'sha1'], detached: true },
    { name: 'rsa noattr attached', key: 'rsa', extra: ['-noattr', '-nodetach'], detached: false },
    { name: 'ec attached', key: 'ec', extra: ['-nodetach'], detached: false },
    {
      name: 'ec sha1 noattr detached',
      key: 'ec',
      extra: ['-md', 'sha1', '-noattr'],
      detached: true,
    },
    { name: 'p384 sha384 detached', key: 'p384', extra: ['-md', 'sha384'], detached: true },
    {
      name: 'rsa BER indefinite (-stream) attached',
      key: 'rsa',
      extra: ['-stream', '-nodetach'],
      detached: false,
    },
    { name: 'ec BER indefinite (-indef) detached', key: 'ec', extra: ['-indef'], detached: true },
  ] as const)('ok/$name', ({ key, extra, detached }) => {
    const f = ids[key];
    const der = openssl([
      'cms',
      '-sign',
      '-binary',
      '-outform',
      'DER',
      '-in',
      tmp.path('body'),
      '-signer',
      f.cert,
      '-inkey',
      f.key,
      ...extra,
    ]);
    if (extra.includes('-stream' as never) || extra.includes('-indef' as never)) {
      expect(readDer(der).indefinite).toBe(true);
    }
    const v = verifyCms(der, {
      roots: [pki.rsaCa.certificate, pki.ecCa.certificate],
      ...(detached ? { content: body } : {}),
    });
    expect(v.content.equals(body)).toBe(true);
    expect(v.signer.subject).toContain(
      key === 'rsa' ? 'rsa-device' : key === 'ec' ? 'ec-device' : 'p384-device',
    );
  });

  test('fail/openssl signature with a flipped body byte', () => {
    const der = openssl([
      'cms',
      '-sign',
      '-binary',
      '-outform',
      'DER',
      '-in',
      tmp.path('body'),
      '-signer',
      ids.rsa.cert,
      '-inkey',
      ids.rsa.key,
    ]);
    const other = Buffer.from(body);
    other[10] = (other[10] as number) ^ 1;
    let error: unknown;
    try {
      verifyCms(der, { content: other });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe('ERR_CMS_SIGNATURE');
  });
});

describe('EnvelopedData interop', () => {
  tmp.write('recip.crt', pki.rsaLeaf.certPem);
  tmp.write('recip.key', pki.rsaLeaf.keyPem);
  test.each([
    { name: 'v1.5 aes-128', args: ['-aes128'] },
    { name: 'v1.5 aes-256', args: ['-aes256'] },
    { name: 'v1.5 des3', args: ['-des3'] },
    { name: 'oaep aes-256', args: ['-aes256'], keyopt: ['-keyopt', 'rsa_padding_mode:oaep'] },
    {
      name: 'oaep sha256 aes-128',
      args: ['-aes128'],
      keyopt: [
        '-keyopt',
        'rsa_padding_mode:oaep',
        '-keyopt',
        'rsa_oaep_md:sha256',
        '-keyopt',
        'rsa_mgf1_md:sha256',
      ],
    },
    { name: 'v1.5 aes-256 BER stream', args: ['-aes256', '-stream'] },
  ] as { name: string; args: string[]; keyopt?: string[] }[])(
    'ok/we decrypt openssl $name',
    ({ args, keyopt }) => {
      const der = openssl([
        'cms',
        '-encrypt',
        '-binary',
        '-outform',
        'DER',
        '-in',
        tmp.path('body'),
        ...args,
        '-recip',
        tmp.path('recip.crt'),
        ...(keyopt ?? []),
      ]);
      if (keyopt)
        expect(openssl(['asn1parse', '-inform', 'DER'], { input: der }).toString()).toContain(
          'rsaesOaep',
        );
      expect(
        decryptCms(der, {
          privateKey: pki.rsaLeaf.privateKey,
          certificate: pki.rsaLeaf.certificate,
        }).equals(body),
      ).toBe(true);
      expect(decryptCms(der, { privateKey: pki.rsaLeaf.keyPem }).equals(body)).toBe(true);
    },
  );

  test.each([
    { keyTransport: 'rsa-pkcs1', cipher: 'aes-128-cbc' },
    { keyTransport: 'rsa-pkcs1', cipher: 'aes-256-cbc' },
    { keyTransport: 'rsa-oaep', cipher: 'aes-256-cbc' },
  ] as const)('ok/openssl decrypts ours $keyTransport $cipher', (options) => {
    const path = tmp.write(
      `env-${options.keyTransport}-${options.cipher}.der`,
      encryptCms(body, pki.rsaLeaf.certificate, options),
    );
    const out = openssl([
      'cms',
      '-decrypt',
      '-binary',
      '-inform',
      'DER',
      '-in',
      path,
      '-recip',
      tmp.path('recip.crt'),
      '-inkey',
      tmp.path('recip.key'),
    ]);
    expect(out.equals(body)).toBe(true);
  });
});
