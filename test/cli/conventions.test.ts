/**
 * Conventions every `orchard` subcommand shares: `--version`; a usage error is one line and a
 * hint (exit 2); a missing file, a signed input and a wrong password read the same in every
 * subcommand (exit 1); passwords come from a file or an `ORCHARD_*` variable, not only a flag;
 * every subcommand that prints a result accepts `--json`; a bad `ORCHARD_*` value is named.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createProgram } from '../../src/cli/main.js';
import { orchard, orchardWithEnv } from '../support/cli.js';

// Every case starts the CLI as a child process; on two busy cores that takes a while.
jest.setTimeout(120_000);

// Made now, not in beforeAll: the tables below name files in it.
const dir = mkdtempSync(join(tmpdir(), 'orchard-cli-conventions-'));
const at = (name: string): string => join(dir, name);
const PLAIN =
  '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>' +
  '<key>PayloadType</key><string>Configuration</string>' +
  '<key>PayloadIdentifier</key><string>com.example.test</string>' +
  '<key>PayloadUUID</key><string>5B8E9A5C-3C1E-4B7E-9D35-6A3B9B0B7D11</string>' +
  '<key>PayloadVersion</key><integer>1</integer>' +
  '<key>PayloadDisplayName</key><string>Test</string>' +
  '<key>PayloadContent</key><array/></dict></plist>\n';

const ssl = (...args: string[]): void => {
  execFileSync('openssl', args, { stdio: 'ignore' });
};

beforeAll(() => {
  writeFileSync(at('plain.mobileconfig'), PLAIN);
  writeFileSync(at('right.pw'), 'sesame\n');
  writeFileSync(at('wrong.pw'), 'nope\n');
  ssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at('key.pem'));
  ssl(
    ...[
      'req',
      '-x509',
      '-key',
      at('key.pem'),
      '-out',
      at('cert.pem'),
      '-subj',
      '/UID=com.apple.mgmt.External.conventions/CN=Conventions',
    ],
    ...['-days', '2'],
  );
  ssl('pkey', '-in', at('key.pem'), '-aes256', '-passout', 'pass:sesame', '-out', at('enc.pem'));
  ssl(
    ...['pkcs12', '-export', '-in', at('cert.pem'), '-inkey', at('key.pem')],
    ...['-passout', 'pass:sesame', '-out', at('push.p12')],
  );
  ssl(
    ...['cms', '-sign', '-binary', '-nodetach', '-outform', 'DER', '-in', at('plain.mobileconfig')],
    ...['-signer', at('cert.pem'), '-inkey', at('key.pem'), '-out', at('signed.mobileconfig')],
  );
  ssl('req', '-new', '-key', at('key.pem'), '-subj', '/CN=Customer', '-out', at('customer.csr'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('orchard --version', () => {
  test('ok/prints the package version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(await orchard('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a usage error is one line and a hint, exit 2', () => {
  test.each([
    ['orchard', ['nope'], /unknown command 'nope'/],
    ['orchard profile', ['profile', 'nope'], /unknown command 'nope'/],
    ['orchard profile validate', ['profile', 'validate'], /required option '--in <file>'/],
    ['orchard profile validate', ['profile', 'validate', '--in', 'x', '--jsn'], /'--jsn'/],
    [
      'orchard profile validate',
      ['profile', 'validate', '--in', 'x', '--os-version', '17.0'],
      /--platform/,
    ],
    ['orchard apikey create', ['apikey', 'create', '--name', 'n', '--scope', 'admin'], /--scope/],
    ['orchard push csr', ['push', 'csr'], /--key and --csr/],
    [
      'orchard push csr',
      ['push', 'csr', '--key', 'k', '--csr', 'c', '--country', 'France'],
      /country/,
    ],
    ['orchard serve', ['serve', '--listen', 'nowhere'], /--listen/],
  ])('fail/%s: %j', async (command, args, problem) => {
    const r = await orchard(...args);
    expect(r.code).toBe(2);
    const name = escape(command);
    expect(r.stderr).toMatch(new RegExp(`^${name}: [^\\n]+\\nTry '${name} --help'\\.\\n$`));
    expect(r.stderr).toMatch(problem);
  });

  test('fail/no subcommand shows the help and exits 2', async () => {
    const r = await orchard();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Usage: orchard/);
  });

  test('ok/orchard help and --help exit 0', async () => {
    const [help, flag] = await Promise.all([orchard('help'), orchard('profile', '--help')]);
    expect([help.code, flag.code]).toEqual([0, 0]);
    expect(flag.stdout).toMatch(/^Usage: orchard profile/);
  });
});

describe('a missing file reads the same in every subcommand, exit 1', () => {
  const missing = (): string => at('missing.file');
  test.each([
    ['profile build', () => ['--spec', missing(), '--out', at('o')]],
    ['profile validate', () => ['--in', missing()]],
    [
      'profile sign',
      () => ['--in', missing(), '--cert', at('cert.pem'), '--key', at('key.pem'), '--out', at('o')],
    ],
    [
      'profile sign',
      () => [
        '--in',
        at('plain.mobileconfig'),
        '--cert',
        at('cert.pem'),
        '--key',
        missing(),
        '--out',
        at('o'),
      ],
    ],
    [
      'profile sign',
      () => [
        '--in',
        at('plain.mobileconfig'),
        '--cert',
        at('cert.pem'),
        '--key',
        at('enc.pem'),
        '--key-password-file',
        missing(),
        '--out',
        at('o'),
      ],
    ],
    ['profile verify', () => ['--in', missing()]],
    ['profile encrypt', () => ['--in', missing(), '--recipient', at('cert.pem'), '--out', at('o')]],
    ['profile inspect', () => ['--in', missing()]],
    ['push inspect', () => [missing()]],
    ['push inspect', () => [at('push.p12'), '--password-file', missing()]],
    [
      'push csr',
      () => [
        '--from-csr',
        missing(),
        '--vendor-cert',
        at('cert.pem'),
        '--vendor-key',
        at('key.pem'),
        '--request',
        at('o'),
      ],
    ],
  ])('fail/orchard %s', async (command, args) => {
    const r = await orchard(...command.split(' '), ...args());
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `orchard ${command}: cannot read ${missing()} (ENOENT)\n`,
    });
  });
});

describe('a signed input reads the same in every subcommand that needs a plain one, exit 1', () => {
  test.each([
    ['validate', () => []],
    ['sign', () => ['--cert', at('cert.pem'), '--key', at('key.pem'), '--out', at('o')]],
    ['encrypt', () => ['--recipient', at('cert.pem'), '--out', at('o')]],
  ])('fail/orchard profile %s', async (command, args) => {
    const signed = at('signed.mobileconfig');
    const r = await orchard('profile', command, '--in', signed, ...args());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^orchard profile ${command}: ${escape(signed)} is signed \\(CMS\\): [^\\n]+ \\[ERR_PROFILE_FORMAT\\]\\n$`,
      ),
    );
  });
});

describe('passwords come from a file or an ORCHARD_ variable, not only a flag', () => {
  const sign = (out: string, ...extra: string[]): string[] => [
    ...['profile', 'sign', '--in', at('plain.mobileconfig'), '--cert', at('cert.pem')],
    ...['--key', at('enc.pem'), '--out', at(out), ...extra],
  ];
  const vendor = (out: string, ...extra: string[]): string[] => [
    ...['push', 'csr', '--from-csr', at('customer.csr'), '--vendor-cert', at('cert.pem')],
    ...['--vendor-key', at('enc.pem'), '--request', at(out), ...extra],
  ];

  test.each([
    ['profile sign, --key-password-file', {}, sign('s1', '--key-password-file', at('right.pw'))],
    ['profile sign, ORCHARD_KEY_PASSWORD', { ORCHARD_KEY_PASSWORD: 'sesame' }, sign('s2')],
    [
      'push inspect, --password-file',
      {},
      ['push', 'inspect', at('push.p12'), '--password-file', at('right.pw')],
    ],
    [
      'push inspect, ORCHARD_PUSH_P12_PASSWORD',
      { ORCHARD_PUSH_P12_PASSWORD: 'sesame' },
      ['push', 'inspect', at('push.p12')],
    ],
    [
      'push csr, --vendor-key-password-file',
      {},
      vendor('r1', '--vendor-key-password-file', at('right.pw')),
    ],
    [
      'push csr, ORCHARD_VENDOR_KEY_PASSWORD',
      { ORCHARD_VENDOR_KEY_PASSWORD: 'sesame' },
      vendor('r2'),
    ],
  ] as [string, Record<string, string>, string[]][])('ok/%s', async (_name, env, args) => {
    const r = await orchardWithEnv(env, ...args);
    expect([r.code, r.stderr]).toEqual([0, '']);
  });

  test.each([
    ['profile sign', {}, sign('s3', '--key-password-file', at('wrong.pw')), 'enc.pem'],
    [
      'push inspect',
      { ORCHARD_PUSH_P12_PASSWORD: 'nope' },
      ['push', 'inspect', at('push.p12')],
      'push.p12',
    ],
    ['push csr', {}, vendor('r3', '--vendor-key-password-file', at('wrong.pw')), 'enc.pem'],
  ] as [string, Record<string, string>, string[], string][])(
    'fail/a wrong password reads the same: orchard %s',
    async (command, env, args, file) => {
      const r = await orchardWithEnv(env, ...args);
      expect([r.code, r.stderr]).toEqual([
        1,
        `orchard ${command}: cannot read ${at(file)} (wrong password)\n`,
      ]);
    },
  );

  test.each([
    [
      'profile sign',
      sign('s4'),
      /encrypted: give --key-password-file FILE or ORCHARD_KEY_PASSWORD/,
    ],
    [
      'push inspect',
      ['push', 'inspect', at('push.p12')],
      /--password-file FILE or ORCHARD_PUSH_P12_PASSWORD/,
    ],
    [
      'push inspect',
      ['push', 'inspect', at('push.p12'), '--password', 'x', '--password-file', at('right.pw')],
      /either --password or --password-file/,
    ],
  ])('fail/no password, or two, is misuse: orchard %s', async (_command, args, problem) => {
    const r = await orchard(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(problem);
  });
});

describe('--json', () => {
  test('ok/every subcommand that prints a result accepts --json', () => {
    const program = createProgram();
    const find = (path: string): Command | undefined =>
      path
        .split(' ')
        .reduce<Command | undefined>(
          (c, name) => c?.commands.find((s) => s.name() === name),
          program,
        );
    const printing = [
      'admins add',
      'admins list',
      'apikey create',
      'apikey list',
      'apikey revoke',
      'push csr',
      'push inspect',
      'profile validate',
      'profile verify',
      'profile inspect',
      'secrets rotate',
      'users add',
      'users import',
      'users list',
    ];
    const without = printing.filter(
      (p) => find(p)?.options.some((o) => o.long === '--json') !== true,
    );
    expect(without).toEqual([]);
  });

  test('ok/with --json standard output is JSON', async () => {
    const runs = await Promise.all([
      orchard('push', 'csr', '--key', at('j.key'), '--csr', at('j.csr'), '--json'),
      orchard('push', 'inspect', at('cert.pem'), '--json'),
      orchard('profile', 'validate', '--in', at('plain.mobileconfig'), '--json'),
      orchard('profile', 'verify', '--in', at('signed.mobileconfig'), '--json'),
      orchard('profile', 'inspect', '--in', at('signed.mobileconfig'), '--json'),
    ]);
    const parsed = runs.map((r) => JSON.parse(r.stdout) as Record<string, unknown>);
    expect(parsed[0]).toEqual({ wrote: { key: at('j.key'), csr: at('j.csr') } });
    expect(parsed[1]).toMatchObject({ topic: 'com.apple.mgmt.External.conventions' });
    expect(parsed[2]).toHaveProperty('issues');
    expect(parsed[3]).toHaveProperty('signer');
    expect(parsed[4]).toHaveProperty('signature');
  });
});

describe('a bad ORCHARD_ variable is named in the error it causes', () => {
  test.each([
    [
      'ORCHARD_LISTEN',
      { ORCHARD_LISTEN: 'nowhere' },
      ['serve'],
      /^orchard serve: ORCHARD_LISTEN: expected HOST:PORT/,
    ],
    [
      'ORCHARD_API_KEY',
      { ORCHARD_API_KEY: 'short' },
      ['serve'],
      /^orchard serve: ORCHARD_API_KEY: must be at least 32/,
    ],
    [
      'ORCHARD_PUSH_P12_PASSWORD_FILE',
      { ORCHARD_PUSH_P12: '/p.p12', ORCHARD_PUSH_P12_PASSWORD_FILE: '/no/such/pw' },
      ['serve'],
      /^orchard serve: ORCHARD_PUSH_P12_PASSWORD_FILE: cannot read \/no\/such\/pw \(ENOENT\)/,
    ],
    [
      'ORCHARD_DATA_DIR',
      { ORCHARD_DATA_DIR: '/no/such/dir' },
      ['apikey', 'list'],
      /^orchard apikey list: ORCHARD_DATA_DIR: no database at/,
    ],
    [
      'the flag when both are set',
      { ORCHARD_LISTEN: '127.0.0.1:1' },
      ['serve', '--listen', 'nowhere'],
      /^orchard serve: --listen: expected HOST:PORT/,
    ],
  ] as [string, Record<string, string>, string[], RegExp][])(
    'fail/%s',
    async (_name, env, args, problem) => {
      const r = await orchardWithEnv(env, ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(problem);
    },
  );
});
