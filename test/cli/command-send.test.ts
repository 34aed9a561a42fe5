/**
 * `orchard command send` against a running daemon: an InstallProfile with a signed profile from
 * a plist file and from a typed-JSON file reaches the emulated device byte for byte; `--json`,
 * several enrollments, ORCHARD_API_KEY; and the exit codes of refusals and misuse.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { signProfile } from '../../src/profile/sign.js';
import { startHarness, type Harness } from '../daemon/harness.js';
import { orchard, type CliResult } from '../support/cli.js';
import { expectOk, type DeviceEmulator } from '../support/device-emulator.js';
import { testPki } from '../support/pki.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let h: Harness;
let dir: string;
let signed: Buffer;

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'orchard-command-cli-'));
  const signer = (await testPki()).rsaLeaf;
  const profile: PlistDict = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.cli',
    PayloadUUID: '0D9C8B7A-6F5E-4D3C-8B2A-1F0E9D8C7B6A',
    PayloadContent: [
      {
        PayloadType: 'com.apple.applicationaccess',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.cli.restrictions',
        PayloadUUID: '1A2B3C4D-5E6F-4789-8ABC-DEF012345678',
        allowCamera: false,
      },
    ],
  };
  signed = signProfile(profile, { certificate: signer.certificate, privateKey: signer.privateKey });
}, 60_000);

afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const send = (...args: string[]): Promise<CliResult> =>
  orchard('command', 'send', '--url', h.daemon.url, ...args);

async function expectProfile(d: DeviceEmulator, uuid: string): Promise<void> {
  const res = await d.idle();
  expectOk(res, 'Idle');
  expect(res.plist?.CommandUUID).toBe(uuid);
  const command = res.plist?.Command as { RequestType: string; Payload: Uint8Array };
  expect(command.RequestType).toBe('InstallProfile');
  expect(Buffer.from(command.Payload).equals(signed)).toBe(true);
  expectOk(await d.answer(uuid, 'Acknowledged'), 'report');
}

describe('orchard command send', () => {
  test.each(['xml', 'binary'] as const)(
    'ok/an InstallProfile from a %s plist file reaches the device byte for byte',
    async (format) => {
      const d = await h.device();
      const path = file(
        `install.${format}.plist`,
        encodePlist({ RequestType: 'InstallProfile', Payload: signed }, { format }),
      );
      const r = await send('--enrollment', d.enrollmentId, '--in', path, '--api-key', h.apiKey);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout.trim()).toMatch(UUID);
      await expectProfile(d, r.stdout.trim());
    },
    120_000,
  );

  test('ok/from a typed-JSON file with the key in ORCHARD_API_KEY, --json prints the answer', async () => {
    const d = await h.device();
    const path = file(
      'install.json',
      JSON.stringify({
        RequestType: 'InstallProfile',
        Payload: { $data: signed.toString('base64') },
      }),
    );
    const r = await new Promise<CliResult>((resolve) => {
      execFile(
        process.execPath,
        [
          'bin/orchard',
          'command',
          'send',
          '--url',
          h.daemon.url,
          '--enrollment',
          d.enrollmentId,
          '--in',
          path,
          '--json',
        ],
        { env: { PATH: process.env.PATH ?? '', ORCHARD_API_KEY: h.apiKey } },
        (error, stdout, stderr) => {
          resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
        },
      );
    });
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout) as { commandUuid: string };
    expect(answer.commandUuid).toMatch(UUID);
    await expectProfile(d, answer.commandUuid);
  }, 120_000);

  test('ok/several enrollments share one command', async () => {
    const devices = [await h.device(), await h.device()];
    const path = file(
      'install-many.plist',
      encodePlist({ RequestType: 'InstallProfile', Payload: signed }),
    );
    const ids = devices.flatMap((d) => ['--enrollment', d.enrollmentId]);
    const r = await send(...ids, '--in', path, '--api-key', h.apiKey);
    expect(r.code).toBe(0);
    for (const d of devices) await expectProfile(d, r.stdout.trim());
  }, 120_000);

  test.each<[string, () => string[], RegExp]>([
    [
      // Caught before any request: the file says where it is wrong.
      'a bad $data names the path',
      () => ['--in', file('bad.json', '{"RequestType":"InstallProfile","Payload":{"$data":"!!"}}')],
      /bad\.json: at Payload: "\$data" takes a base64 string/,
    ],
    [
      'a schema refusal lists the issues',
      () => [
        '--in',
        file('wrong.plist', encodePlist({ RequestType: 'InstallProfile', Payload: 'x' })),
      ],
      /422 ERR_VALIDATION[\s\S]*Payload/,
    ],
    ['a missing file', () => ['--in', join(dir, 'nope.plist')], /cannot read .*nope\.plist/],
    [
      'a file that is no command',
      () => ['--in', file('text.txt', 'hello')],
      /neither a property list nor a JSON object/,
    ],
    ['malformed JSON', () => ['--in', file('broken.json', '{"RequestType":')], /broken\.json/],
    [
      'a plist without RequestType',
      () => ['--in', file('norequest.plist', encodePlist({ a: 1 }))],
      /RequestType/,
    ],
  ])(
    'fail/%s: exit 1',
    async (_what, args, stderr) => {
      const d = await h.device();
      const r = await send('--enrollment', d.enrollmentId, '--api-key', h.apiKey, ...args());
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(stderr);
      expect(r.stdout).toBe('');
    },
    120_000,
  );

  test('fail/an unknown enrollment is exit 1 with the 404', async () => {
    const path = file('list.json', '{"RequestType":"ProfileList"}');
    const r = await send('--enrollment', 'NO-SUCH-DEVICE', '--in', path, '--api-key', h.apiKey);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/404 ERR_NOT_FOUND/);
  }, 120_000);

  test.each<[string, (path: string) => string[], RegExp]>([
    ['no API key', (p) => ['--in', p], /an API key is needed/],
    ['a wrong API key', (p) => ['--in', p, '--api-key', 'orch_wrong'], /403 ERR_API_KEY_INVALID/],
    ['no --in', () => ['--api-key', 'k'], /--in/],
    ['a --url that is no URL', (p) => ['--in', p, '--api-key', 'k', '--url', 'nope'], /not a URL/],
  ])(
    'fail/%s: exit 2',
    async (_what, args, stderr) => {
      const path = file('list2.json', '{"RequestType":"ProfileList"}');
      const r = await send('--enrollment', 'X', ...args(path));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(stderr);
    },
    120_000,
  );

  test('fail/an unreachable daemon is exit 1', async () => {
    const path = file('list3.json', '{"RequestType":"ProfileList"}');
    const r = await orchard(
      'command',
      'send',
      '--url',
      'http://127.0.0.1:9',
      '--enrollment',
      'X',
      '--in',
      path,
      '--api-key',
      'k',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
  }, 120_000);
});
