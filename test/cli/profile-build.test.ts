import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { orchard } from '../support/cli.js';

// Cases start `node` with tsx one after another; with a second suite on the two cores, one such
// case took over 30 s (the default), though it does little work. A hang still fails.
jest.setTimeout(120_000);

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-profile-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('orchard profile build', () => {
  test('ok/builds the restrictions spec into an XML .mobileconfig', async () => {
    const out = join(dir, 'restrictions.mobileconfig');
    const r = await orchard(
      'profile',
      'build',
      '--spec',
      'fixtures/profiles/restrictions.yaml',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const xml = readFileSync(out, 'utf8');
    expect(xml).toMatch(/^<\?xml/);
    expect(xml).toContain('<string>com.apple.applicationaccess</string>');
  });

  test('fail/broken spec exits 1 listing every problem with its path', async () => {
    const out = join(dir, 'broken.mobileconfig');
    const r = await orchard(
      'profile',
      'build',
      '--spec',
      'fixtures/profiles/wifi-broken.yaml',
      '--out',
      out,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PayloadContent[0].EncryptionType');
    expect(r.stderr).toContain('[not-in-rangelist]');
    expect(r.stderr).toContain('PayloadContent[0].SSID');
  });

  test('fail/missing spec file exits 1 naming it', async () => {
    const r = await orchard(
      'profile',
      'build',
      '--spec',
      join(dir, 'nope.yaml'),
      '--out',
      join(dir, 'x'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*nope\.yaml \(ENOENT\)/);
  });

  test.each([
    ['fail/missing --out is misuse', ['profile', 'build', '--spec', 'fixtures/profiles/wifi.yaml']],
    [
      'fail/unknown --format is misuse',
      [
        'profile',
        'build',
        '--spec',
        'fixtures/profiles/wifi.yaml',
        '--out',
        '-',
        '--format',
        'json',
      ],
    ],
  ])('%s', async (_name, args) => {
    const r = await orchard(...args);
    expect(r.code).toBe(2);
  });
});

describe('orchard profile validate', () => {
  test('ok/clean profile with no target exits 0 and prints the compatibility summary', async () => {
    const out = join(dir, 'wifi.mobileconfig');
    expect(
      (await orchard('profile', 'build', '--spec', 'fixtures/profiles/wifi.yaml', '--out', out))
        .code,
    ).toBe(0);
    const r = await orchard('profile', 'validate', '--in', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /iOS 7\.0\+: device yes; supervised yes; ade yes; user-enrollment yes/,
    );
    expect(r.stdout).toContain('0 error(s)');
  });

  test('fail/restrictions on unsupervised iOS 16 exits 1 listing paths; warnings alone do not fail', async () => {
    const out = join(dir, 'restrictions2.mobileconfig');
    await orchard(
      'profile',
      'build',
      '--spec',
      'fixtures/profiles/restrictions.yaml',
      '--out',
      out,
    );
    const bad = await orchard(
      'profile',
      'validate',
      '--in',
      out,
      '--platform',
      'iOS',
      '--os-version',
      '16.0',
      '--enrollment',
      'device',
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      'error: PayloadContent[0].allowiPhoneWidgetsOnMac: allowiPhoneWidgetsOnMac needs iOS 17.0 or later [introduced-later]',
    );
    expect(bad.stdout).toContain('[requires-supervision]');
    expect(bad.stdout).toContain('warning: PayloadRemovalDisallowed');
    const good = await orchard(
      'profile',
      'validate',
      '--in',
      out,
      '--platform',
      'iOS',
      '--os-version',
      '17.0',
      '--enrollment',
      'ade',
    );
    expect(good.code).toBe(0);
  });

  test('fail/a third-party profile with hand-made mistakes', async () => {
    const file = join(dir, 'third-party.mobileconfig');
    writeFileSync(
      file,
      `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>PayloadType</key><string>Configuration</string><key>PayloadVersion</key><integer>1</integer>
<key>PayloadIdentifier</key><string>com.vendor.p</string><key>PayloadUUID</key><string>U1</string>
<key>PayloadContent</key><array><dict>
<key>PayloadType</key><string>com.apple.mobiledevice.passwordpolicy</string><key>PayloadVersion</key><integer>1</integer>
<key>PayloadIdentifier</key><string>com.vendor.p.pw</string><key>PayloadUUID</key><string>U2</string>
<key>minLength</key><real>6.0</real><key>maxPINAgeInDays</key><string>30</string>
</dict></array></dict></plist>`,
    );
    const r = await orchard('profile', 'validate', '--in', file, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { issues: { path: string; code: string }[] };
    expect(report.issues.map((i) => [i.path, i.code])).toEqual([
      ['PayloadContent[0].minLength', 'wrong-type'],
      ['PayloadContent[0].maxPINAgeInDays', 'wrong-type'],
    ]);
  });

  test.each([
    ['fail/garbage input exits 1', 'garbage', 1],
    ['fail/signed (DER) input exits 1 with advice', 'der', 1],
  ])('%s', async (_name, kind, code) => {
    const file = join(dir, `${kind}.mobileconfig`);
    writeFileSync(file, kind === 'der' ? Buffer.from([0x30, 0x82, 0x01, 0x00]) : 'not a plist');
    const r = await orchard('profile', 'validate', '--in', file);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(kind === 'der' ? /profile verify/ : /ERR_PLIST/);
  });

  test.each([
    ['fail/target flags without --platform', ['--os-version', '17.0']],
    ['fail/bad --os-version', ['--platform', 'iOS', '--os-version', 'seventeen']],
    ['fail/unknown --platform', ['--platform', 'Android']],
    ['fail/unknown --enrollment', ['--platform', 'iOS', '--enrollment', 'byod']],
    ['fail/missing --in', []],
  ])('%s is misuse (exit 2)', async (_name, flags) => {
    const args =
      flags.length === 0
        ? ['profile', 'validate']
        : ['profile', 'validate', '--in', 'fixtures/profiles/wifi.yaml', ...flags];
    const r = await orchard(...args);
    expect(r.code).toBe(2);
  });
});
