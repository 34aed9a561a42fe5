import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePlist } from '../../src/protocol/plist.js';
import { createApnsTestPki, issuePushCertificate, newTopic } from '../push/pki.js';
import { orchard, type CliResult } from '../support/cli.js';

let dir: string;
const at = (name: string): string => join(dir, name);

const push = (...args: string[]): Promise<CliResult> => orchard('push', ...args);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-push-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('orchard push csr', () => {
  test('ok/writes an RSA 2048 key (0600) and a CSR openssl verifies', async () => {
    const r = await push(
      'csr',
      '--key',
      at('push.key'),
      '--csr',
      at('push.csr'),
      '--cn',
      'Acme MDM',
      '--country',
      'fr',
    );
    expect(r.code).toBe(0);
    expect(statSync(at('push.key')).mode & 0o777).toBe(0o600);
    const text = execFileSync(
      'openssl',
      ['req', '-in', at('push.csr'), '-verify', '-noout', '-subject', '-text'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    expect(text).toContain('CN = Acme MDM, C = FR');
    expect(text).toContain('Public-Key: (2048 bit)');
    expect(
      execFileSync('openssl', ['pkey', '-in', at('push.key'), '-noout', '-text'], {
        encoding: 'utf8',
      }),
    ).toMatch(/2048 bit/);
  });

  test('fail/refuses to overwrite an existing key without --force', async () => {
    writeFileSync(at('exists.key'), 'keep me');
    const r = await push('csr', '--key', at('exists.key'), '--csr', at('other.csr'));
    expect(r.code).toBe(1);
    expect(readFileSync(at('exists.key'), 'utf8')).toBe('keep me');
  });

  test('ok/vendor mode signs the customer CSR into the base64 plist Apple expects', async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        at('vendor.key'),
        '-out',
        at('vendor.pem'),
        '-subj',
        '/CN=MDM Vendor',
        '-days',
        '2',
      ],
      { stdio: 'ignore' },
    );
    const r = await push(
      'csr',
      '--key',
      at('c.key'),
      '--csr',
      at('c.csr'),
      '--vendor-cert',
      at('vendor.pem'),
      '--vendor-key',
      at('vendor.key'),
      '--request',
      at('request.b64'),
    );
    expect(r.code).toBe(0);
    const plist = decodePlist(
      Buffer.from(readFileSync(at('request.b64'), 'utf8'), 'base64'),
    ) as Record<string, string>;
    expect(Object.keys(plist).sort()).toEqual([
      'PushCertCertificateChain',
      'PushCertRequestCSR',
      'PushCertSignature',
    ]);
    const csrDer = Buffer.from(plist.PushCertRequestCSR!, 'base64');
    const pem = execFileSync('openssl', ['req', '-inform', 'DER', '-outform', 'PEM'], {
      input: csrDer,
      encoding: 'utf8',
    });
    expect(pem).toBe(readFileSync(at('c.csr'), 'utf8'));
    expect(plist.PushCertCertificateChain).toBe(readFileSync(at('vendor.pem'), 'utf8'));
    writeFileSync(at('csr.der'), csrDer);
    writeFileSync(at('sig.bin'), Buffer.from(plist.PushCertSignature!, 'base64'));
    execFileSync('openssl', [
      'x509',
      '-in',
      at('vendor.pem'),
      '-pubkey',
      '-noout',
      '-out',
      at('vendor.pub'),
    ]);
    const verified = execFileSync(
      'openssl',
      ['dgst', '-sha256', '-verify', at('vendor.pub'), '-signature', at('sig.bin'), at('csr.der')],
      { encoding: 'utf8' },
    );
    expect(verified).toContain('Verified OK');
  });

  test.each([
    [
      'fail/--vendor-cert without --vendor-key is misuse',
      ['--from-csr', 'x.csr', '--vendor-cert', 'v.pem', '--request', 'r'],
      2,
    ],
    ['fail/no output files is misuse', [], 2],
    [
      'fail/a vendor key that does not match its certificate',
      [
        '--from-csr',
        'c.csr',
        '--vendor-cert',
        'vendor.pem',
        '--vendor-key',
        'c.key',
        '--request',
        'bad.b64',
      ],
      1,
    ],
  ])('%s', async (_name, args, code) => {
    const r = await push('csr', ...args.map((a) => (a.includes('.') ? at(a) : a)));
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(/orchard push|error/);
  });
});

describe('orchard push inspect', () => {
  let topic: string;
  beforeAll(async () => {
    const pki = await createApnsTestPki();
    topic = newTopic();
    const pair = await issuePushCertificate(pki, { topic, rsa: true, toDays: 20 });
    writeFileSync(at('push.pem'), pair.certPem);
    writeFileSync(at('push-key.pem'), pair.keyPem);
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      '-in',
      at('push.pem'),
      '-inkey',
      at('push-key.pem'),
      '-out',
      at('push.p12'),
      '-passout',
      'pass:pw',
    ]);
  });

  test.each([
    ['ok/PEM certificate', ['push.pem']],
    ['ok/PEM certificate with its key', ['push.pem', '--key', 'push-key.pem']],
    ['ok/PKCS#12', ['push.p12', '--password', 'pw']],
  ])('%s', async (_name, args) => {
    const r = await push('inspect', ...args.map((a) => (a.includes('.') ? at(a) : a)));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ topic, expired: false });
    expect([19, 20]).toContain(out.daysLeft);
  });

  test.each([
    [
      'fail/wrong PKCS#12 password',
      ['push.p12', '--password', 'nope'],
      1,
      /^orchard push inspect: cannot read \S*push\.p12 \(wrong password\)\n$/,
    ],
    ['fail/a CSR is not a certificate', ['push.csr'], 1, /certificate/],
    ['fail/missing file', ['nope.pem'], 1, /ENOENT|no such file/],
    ['fail/PKCS#12 without --password is misuse', ['push.p12'], 2, /password/],
  ])('%s', async (_name, args, code, message) => {
    const r = await push('inspect', ...args.map((a) => (a.includes('.') ? at(a) : a)));
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });
});
