/**
 * Issue 13: commands that carry `<data>`, `<date>` and `<real>` values through the admin API of
 * a running daemon. An `InstallProfile` with a signed profile is queued as an XML or binary plist
 * body and as typed JSON (`{"$data": ...}`), and the emulated device receives the exact bytes;
 * a date and a whole real survive API → device → report → GET result; refusals name the field;
 * bodies past the limits are 413.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { PlistReal, decodePlist, encodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { signProfile } from '../../src/profile/sign.js';
import { expectOk, type DeviceEmulator } from '../support/device-emulator.js';
import { testPki, type TestIdentity } from '../support/pki.js';
import { startHarness, type Harness } from './harness.js';

const PLIST = 'application/x-apple-plist';
const MiB = 1024 * 1024;

let h: Harness;
let signer: TestIdentity;

beforeAll(async () => {
  h = await startHarness();
  signer = (await testPki()).rsaLeaf;
}, 60_000);

afterAll(async () => {
  await h.close();
});

/** A signed .mobileconfig whose font payload holds `size` bytes (a fixed pattern). */
function signedProfile(size: number): Buffer {
  const font = new Uint8Array(size);
  for (let i = 0; i < size; i++) font[i] = (i * 31 + (i >> 8)) & 0xff;
  const profile: PlistDict = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.fonts',
    PayloadUUID: '2B1F1C7E-5A44-4C9B-9D55-6C1E2A3B4C5D',
    PayloadDisplayName: 'Fonts',
    PayloadContent: [
      {
        PayloadType: 'com.apple.font',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.fonts.one',
        PayloadUUID: '8F0E1D2C-3B4A-4596-8778-695A4B3C2D1E',
        Name: 'Example.ttf',
        Font: font,
      },
    ],
  };
  return signProfile(profile, { certificate: signer.certificate, privateKey: signer.privateKey });
}

async function post(
  path: string,
  contentType: string,
  body: Buffer,
  key: string | null = h.apiKey,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape
): Promise<{ status: number; body: any }> {
  const res = await h.raw(
    'POST',
    path,
    {
      'content-type': contentType,
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
    },
    body,
  );
  return { status: res.status, body: JSON.parse(res.body) as unknown };
}

const commandsOf = (d: DeviceEmulator): string => `/api/v1/enrollments/${d.enrollmentId}/commands`;

/** The next command the device gets on an Idle poll: uuid, the dictionary and the raw XML. */
async function poll(d: DeviceEmulator): Promise<{ uuid: string; command: PlistDict; xml: string }> {
  const res = await d.idle();
  expectOk(res, 'Idle');
  // The emulator parses with the independent `plist` package, as a device would.
  const parsed = res.plist as { CommandUUID: string; Command: PlistDict };
  return { uuid: parsed.CommandUUID, command: parsed.Command, xml: res.body.toString('utf8') };
}

/** Checks that the device's copy of the payload is exactly `signed`, then acknowledges it. */
async function expectPayload(d: DeviceEmulator, uuid: string, signed: Buffer): Promise<void> {
  const got = await poll(d);
  expect(got.uuid).toBe(uuid);
  expect(got.command.RequestType).toBe('InstallProfile');
  const payload = Buffer.from(got.command.Payload as Uint8Array);
  expect(payload.length).toBe(signed.length);
  expect(payload.equals(signed)).toBe(true);
  expectOk(await d.answer(uuid, 'Acknowledged'), 'report');
}

describe('InstallProfile with a signed profile reaches the device byte for byte', () => {
  test.each(['xml', 'binary'] as const)(
    'ok/as a %s plist body (application/x-apple-plist)',
    async (format) => {
      const d = await h.device();
      const signed = signedProfile(300 * 1024);
      const body = encodePlist({ RequestType: 'InstallProfile', Payload: signed }, { format });
      const res = await post(commandsOf(d), PLIST, body);
      expect(res.status).toBe(201);
      await expectPayload(d, res.body.commandUuid as string, signed);
    },
    60_000,
  );

  test('ok/as typed JSON {"$data"}: a profile whose JSON passes 1 MiB fits the command limit', async () => {
    const d = await h.device();
    const signed = signedProfile(900 * 1024);
    const body = Buffer.from(
      JSON.stringify({
        RequestType: 'InstallProfile',
        Payload: { $data: signed.toString('base64') },
      }),
    );
    expect(body.length).toBeGreaterThan(MiB);
    const res = await post(commandsOf(d), 'application/json', body);
    expect(res.status).toBe(201);
    await expectPayload(d, res.body.commandUuid as string, signed);
  }, 60_000);

  test('ok/POST /api/v1/commands takes a plist dictionary {enrollmentIds, command}', async () => {
    const devices = [await h.device(), await h.device()];
    const signed = signedProfile(64 * 1024);
    const body = encodePlist(
      {
        enrollmentIds: devices.map((d) => d.enrollmentId),
        command: { RequestType: 'InstallProfile', Payload: signed },
      },
      { format: 'binary' },
    );
    const res = await post('/api/v1/commands', PLIST, body);
    expect(res.status).toBe(201);
    for (const d of devices) await expectPayload(d, res.body.commandUuid as string, signed);
  }, 60_000);
});

/** A managed app configuration with every plist-only kind, as typed JSON. */
const CONFIGURATION = {
  When: { $date: '2024-05-01T10:00:00Z' },
  Ratio: { $real: 64 },
  Half: 0.5,
  Count: 3,
  Big: { $integer: '18446744073709551615' },
  Blob: { $data: 'AAEC/w==' },
  Escaped: { $dict: { $literal: true } },
};

describe('typed values survive API → device → report → GET result', () => {
  test('ok/a date, a whole real and the rest come back exactly as sent', async () => {
    const d = await h.device();
    const sent = {
      RequestType: 'InstallApplication',
      iTunesStoreID: 1,
      Configuration: CONFIGURATION,
    };
    const queued = await h.api('POST', commandsOf(d), sent);
    expect(queued.status).toBe(201);
    const uuid = queued.body.commandUuid as string;

    const got = await poll(d);
    expect(got.uuid).toBe(uuid);
    expect(got.xml).toContain('<key>Ratio</key>\n\t\t\t<real>64</real>');
    expect(got.xml).toContain('<key>When</key>\n\t\t\t<date>2024-05-01T10:00:00Z</date>');
    expect(got.xml).toContain('<key>Big</key>\n\t\t\t<integer>18446744073709551615</integer>');
    // The device reports what it received (decoded exactly) back, as a plist of its own.
    const received = decodePlist(got.xml) as { Command: PlistDict };
    expect((received.Command.Configuration as PlistDict).Ratio).toEqual(new PlistReal(64));
    const report = encodePlist({
      ...d.keys,
      Status: 'Acknowledged',
      CommandUUID: uuid,
      Configuration: received.Command.Configuration as PlistDict,
    });
    expectOk(
      await d.send('/mdm', report, { 'content-type': 'application/x-apple-aspen-mdm' }),
      'report',
    );

    const read = await h.api('GET', `/api/v1/commands/${uuid}`);
    expect(read.status).toBe(200);
    expect(read.body.command.Command).toEqual(sent);
    expect(read.body.targets).toEqual([
      expect.objectContaining({ status: 'Acknowledged', result: expect.anything() }),
    ]);
    expect(read.body.targets[0].result.Configuration).toEqual(CONFIGURATION);

    const list = await h.api('GET', commandsOf(d));
    const entry = list.body.items.find((c: { commandUuid: string }) => c.commandUuid === uuid);
    expect(entry.result.Configuration).toEqual(CONFIGURATION);

    // The result, sent back as a command, is the same command again.
    const again = await h.api('POST', commandsOf(d), read.body.command.Command);
    expect(again.status).toBe(201);
    const resent = await h.api('GET', `/api/v1/commands/${again.body.commandUuid as string}`);
    expect(resent.body.command.Command).toEqual(sent);
  }, 60_000);

  test('ok/?encoding=readable gives the old lossy form', async () => {
    const d = await h.device();
    const queued = await h.api('POST', commandsOf(d), {
      RequestType: 'InstallApplication',
      iTunesStoreID: 1,
      Configuration: CONFIGURATION,
    });
    const uuid = queued.body.commandUuid as string;
    const read = await h.api('GET', `/api/v1/commands/${uuid}?encoding=readable`);
    expect(read.body.command.Command.Configuration).toEqual({
      When: '2024-05-01T10:00:00.000Z',
      Ratio: 64,
      Half: 0.5,
      Count: 3,
      Big: '18446744073709551615',
      Blob: 'AAEC/w==',
      Escaped: { $literal: true },
    });
    const list = await h.api('GET', `${commandsOf(d)}?encoding=readable`);
    expect(list.body.items[0].result).toBeNull();
  });

  test('ok/a binary report keeps its milliseconds and reals', async () => {
    const d = await h.device();
    const queued = await h.api('POST', commandsOf(d), {
      RequestType: 'DeviceInformation',
      Queries: ['DeviceName'],
    });
    const uuid = queued.body.commandUuid as string;
    expect((await poll(d)).uuid).toBe(uuid);
    const report = encodePlist(
      {
        ...d.keys,
        Status: 'Acknowledged',
        CommandUUID: uuid,
        QueryResponses: {
          LastCloudBackupDate: new Date('2024-05-01T10:00:00.250Z'),
          BatteryLevel: new PlistReal(1),
          DeviceCapacity: new PlistReal(63.5),
        },
      },
      { format: 'binary' },
    );
    expectOk(
      await d.send('/mdm', report, { 'content-type': 'application/x-apple-aspen-mdm' }),
      'report',
    );
    const read = await h.api('GET', `/api/v1/commands/${uuid}`);
    expect(read.body.targets[0].result.QueryResponses).toEqual({
      LastCloudBackupDate: { $date: '2024-05-01T10:00:00.250Z' },
      BatteryLevel: { $real: 1 },
      DeviceCapacity: 63.5,
    });
  }, 60_000);
});

describe('refusals name the field', () => {
  const install = (payload: unknown) => ({ RequestType: 'InstallProfile', Payload: payload });

  test.each<[string, 'one' | 'batch', unknown, number, string, string | undefined]>([
    [
      '$data that is not base64',
      'one',
      install({ $data: '!!' }),
      400,
      'ERR_BAD_REQUEST',
      'Payload',
    ],
    ['an unknown $ form', 'one', install({ $blob: 'AA==' }), 400, 'ERR_BAD_REQUEST', 'Payload'],
    [
      'a $ form with a second key',
      'one',
      install({ $data: 'AA==', x: 1 }),
      400,
      'ERR_BAD_REQUEST',
      'Payload',
    ],
    [
      'a $ key in an ordinary dictionary',
      'one',
      { RequestType: 'InstallApplication', iTunesStoreID: 1, Configuration: { $x: 1, y: 2 } },
      400,
      'ERR_BAD_REQUEST',
      'Configuration',
    ],
    [
      'null in a command',
      'one',
      { RequestType: 'InstallApplication', iTunesStoreID: 1, Configuration: { a: [1, null] } },
      400,
      'ERR_BAD_REQUEST',
      'Configuration.a[1]',
    ],
    [
      'a whole number beyond 2^53',
      'one',
      { RequestType: 'InstallApplication', iTunesStoreID: 2 ** 60 },
      400,
      'ERR_BAD_REQUEST',
      'iTunesStoreID',
    ],
    [
      'a date with milliseconds (XML carries whole seconds)',
      'one',
      {
        RequestType: 'InstallApplication',
        iTunesStoreID: 1,
        Configuration: { When: { $date: '2024-05-01T10:00:00.5Z' } },
      },
      400,
      'ERR_BAD_REQUEST',
      'Configuration.When',
    ],
    [
      'a bad $ form in a batch',
      'batch',
      install({ $nope: 1 }),
      400,
      'ERR_BAD_REQUEST',
      'command.Payload',
    ],
    [
      '$data of the wrong type for the schema',
      'one',
      { RequestType: 'DeviceInformation', Queries: { $data: 'AA==' } },
      422,
      'ERR_VALIDATION',
      undefined,
    ],
    ['a string where data is expected', 'one', install('AAEC'), 422, 'ERR_VALIDATION', undefined],
  ])('fail/JSON with %s', async (_what, route, command, status, code, field) => {
    const d = await h.device();
    const res =
      route === 'one'
        ? await h.api('POST', commandsOf(d), command)
        : await h.api('POST', '/api/v1/commands', { enrollmentIds: [d.enrollmentId], command });
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(typeof res.body.message).toBe('string');
    if (field !== undefined) expect(res.body.field).toBe(field);
  });

  test.each<[string, string, Buffer, number, string, string | undefined]>([
    [
      'malformed XML',
      PLIST,
      Buffer.from('<plist><dict><key>a</key></plist>'),
      400,
      'ERR_PLIST_SYNTAX',
      undefined,
    ],
    [
      'an array at the root',
      PLIST,
      encodePlist(['InstallProfile']),
      400,
      'ERR_BAD_REQUEST',
      'body',
    ],
    ['data at the root', PLIST, encodePlist(new Uint8Array([1])), 400, 'ERR_BAD_REQUEST', 'body'],
    [
      'no RequestType',
      PLIST,
      encodePlist({ Payload: new Uint8Array([1]) }),
      400,
      'ERR_BAD_REQUEST',
      'body',
    ],
    [
      'a string where data is expected (schema-checked like JSON)',
      PLIST,
      encodePlist({ RequestType: 'InstallProfile', Payload: 'AAEC' }),
      422,
      'ERR_VALIDATION',
      undefined,
    ],
    [
      'a real where the schema wants an integer',
      PLIST,
      encodePlist({ RequestType: 'InstallApplication', iTunesStoreID: new PlistReal(1) }),
      422,
      'ERR_VALIDATION',
      undefined,
    ],
    [
      'a date with milliseconds in a binary plist',
      PLIST,
      encodePlist(
        {
          RequestType: 'InstallApplication',
          iTunesStoreID: 1,
          Configuration: { When: new Date('2024-05-01T10:00:00.5Z') },
        },
        { format: 'binary' },
      ),
      400,
      'ERR_BAD_REQUEST',
      'Configuration.When',
    ],
    [
      'text/xml',
      'text/xml',
      encodePlist({ RequestType: 'ProfileList' }),
      415,
      'ERR_UNSUPPORTED_MEDIA',
      undefined,
    ],
  ])('fail/a plist body: %s', async (_what, type, body, status, code, field) => {
    const d = await h.device();
    const res = await post(commandsOf(d), type, body);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    if (field !== undefined) expect(res.body.field).toBe(field);
  });

  test('fail/?encoding=bogus is 400 naming encoding', async () => {
    const d = await h.device();
    const uuid = randomUUID();
    for (const path of [
      `/api/v1/commands/${uuid}?encoding=bogus`,
      `${commandsOf(d)}?encoding=bogus`,
    ]) {
      const res = await h.api('GET', path);
      expect(res).toMatchObject({
        status: 400,
        body: { code: 'ERR_BAD_REQUEST', field: 'encoding' },
      });
    }
  });
});

describe('body limits', () => {
  let id: string;
  beforeAll(async () => {
    id = (await h.device()).enrollmentId;
  });
  const big = (n: number): Buffer => Buffer.alloc(n, 32);

  test.each<[string, string, 'write' | 'read' | null, number]>([
    ['a command body past 8 MiB', 'commands', 'write', 8 * MiB + 1],
    ['a command body past 1 MiB without a key', 'commands', null, MiB + 1],
    ['a command body past 1 MiB with a read-only key', 'commands', 'read', MiB + 1],
    ['another route past 1 MiB', 'tokens', 'write', MiB + 1],
  ])('fail/%s is 413', async (_what, route, scope, size) => {
    let key: string | null = scope === 'write' ? h.apiKey : null;
    if (scope === 'read')
      key = (await h.api('POST', '/api/v1/api-keys', { name: 'reader', scope: 'read' })).body
        .key as string;
    const path =
      route === 'commands' ? `/api/v1/enrollments/${id}/commands` : '/api/v1/enrollment-tokens';
    const res = await post(path, 'application/json', big(size), key);
    expect(res).toMatchObject({ status: 413, body: { code: 'ERR_BODY_TOO_LARGE' } });
  });
});

describe('OpenAPI', () => {
  test('ok/the command routes document plist bodies, the typed encoding and ?encoding', async () => {
    const doc = (await h.api('GET', '/api/v1/openapi.json', undefined, null)).body;
    for (const path of ['/api/v1/enrollments/{id}/commands', '/api/v1/commands']) {
      const content = doc.paths[path].post.requestBody.content;
      expect(Object.keys(content).sort()).toEqual(['application/json', PLIST]);
    }
    expect(doc.components.schemas.PlistValue.oneOf.length).toBeGreaterThan(5);
    const params = doc.paths['/api/v1/commands/{uuid}'].get.parameters.map(
      (p: { name: string }) => p.name,
    );
    expect(params).toContain('encoding');
  });
});
