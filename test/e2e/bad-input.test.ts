/**
 * The bad-input table: every hostile or malformed request gets the right status (never 401)
 * and leaves storage exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { DeviceEmulator, EmulatorResponse } from '../support/device-emulator.js';
import { createTestCa, issueDeviceIdentity } from '../support/device-pki.js';
import { startHarness, TOPIC, type Harness } from './harness.js';

const CHECKIN = { 'content-type': 'application/x-apple-aspen-mdm-checkin' };
const REPORT = { 'content-type': 'application/x-apple-aspen-mdm' };

interface World {
  h: Harness;
  a: DeviceEmulator;
  b: DeviceEmulator;
  foreign: DeviceEmulator;
  expired: DeviceEmulator;
}

async function snapshot(w: World): Promise<string> {
  await w.h.core.flush();
  const s = w.h.storage;
  const ids = [w.a.enrollmentId, w.b.enrollmentId];
  return JSON.stringify({
    enrollments: (await s.listEnrollments({ limit: 1000 })).items,
    bindings: await Promise.all(
      ids.flatMap((id) => [id, `${id}#subject`]).map((id) => s.findCertificateBinding(id)),
    ),
    commands: await Promise.all(ids.map((id) => s.listForEnrollment(id, { limit: 1000 }))),
    push: await s.findPushInfo(ids),
    bootstrap: await Promise.all(ids.map((id) => s.findBootstrapToken(id))),
    events: w.h.events.length,
  });
}

type Case = [
  name: string,
  status: number,
  code: string | undefined,
  send: (w: World) => Promise<EmulatorResponse>,
];

const cases: Case[] = [
  [
    'malformed plist',
    400,
    'ERR_PLIST_SYNTAX',
    (w) => w.b.send('/mdm/checkin', Buffer.from('<plist><dict><key>'), CHECKIN),
  ],
  [
    'not a dictionary',
    400,
    'ERR_CHECKIN_FORMAT',
    (w) => w.b.send('/mdm/checkin', Buffer.from('<plist><string>x</string></plist>'), CHECKIN),
  ],
  [
    'wrong content type on the check-in URL',
    415,
    'ERR_CONTENT_TYPE',
    (w) =>
      w.b.send('/mdm/checkin', w.b.build({ MessageType: 'Authenticate', Topic: TOPIC }), {
        'content-type': 'text/plain',
      }),
  ],
  [
    'missing identity keys',
    400,
    'ERR_ENROLLMENT_ID',
    (w) =>
      w.b.send(
        '/mdm/checkin',
        Buffer.from(
          '<plist><dict><key>MessageType</key><string>Authenticate</string><key>Topic</key><string>t</string></dict></plist>',
        ),
        CHECKIN,
      ),
  ],
  [
    'UDID with a colon',
    400,
    'ERR_ENROLLMENT_ID',
    (w) => w.b.checkin('Authenticate', { Topic: TOPIC, UDID: 'A:B' }),
  ],
  [
    'malformed MessageType',
    400,
    'ERR_CHECKIN_FORMAT',
    (w) => w.b.checkin('Auth enticate!', { Topic: TOPIC }),
  ],
  [
    'unknown MessageType (accepted, logged)',
    200,
    undefined,
    (w) => w.a.checkin('FutureMessage', { Topic: TOPIC }),
  ],
  [
    'mistyped key (Token as string)',
    400,
    'ERR_CHECKIN_FORMAT',
    (w) => w.a.checkin('TokenUpdate', { Topic: TOPIC, Token: 'abc', PushMagic: 'x' }),
  ],
  ['unknown report Status', 400, 'ERR_REPORT_FORMAT', (w) => w.a.report('Bogus')],
  ['report without CommandUUID', 400, 'ERR_REPORT_FORMAT', (w) => w.a.report('Acknowledged')],
  [
    'oversized body',
    413,
    'ERR_BODY_TOO_LARGE',
    (w) => w.a.send('/mdm', Buffer.alloc(70_000, 0x20), REPORT),
  ],
  [
    'GET instead of PUT',
    405,
    'ERR_METHOD',
    async (w) => {
      const res = await fetch(`${w.h.url}/mdm`);
      return {
        status: res.status,
        contentType: res.headers.get('content-type'),
        body: Buffer.from(await res.arrayBuffer()),
      };
    },
  ],
  [
    'unknown path',
    404,
    'ERR_ROUTE',
    (w) => w.a.send('/mdm/../admin', w.a.build({ Status: 'Idle' }), REPORT),
  ],
  [
    'signature over another body',
    400,
    'ERR_CMS_SIGNATURE',
    (w) => {
      const body = w.b.build({ MessageType: 'Authenticate', Topic: TOPIC });
      return w.b.send('/mdm/checkin', body, {
        ...CHECKIN,
        ...w.b.identityHeaders(Buffer.concat([body, Buffer.from(' ')])),
      });
    },
  ],
  [
    'garbage signature header',
    400,
    'ERR_IDENTITY_HEADER',
    (w) =>
      w.b.send('/mdm/checkin', w.b.build({ MessageType: 'Authenticate', Topic: TOPIC }), {
        ...CHECKIN,
        'mdm-signature': '%%%',
      }),
  ],
  [
    'no identity at all',
    400,
    'ERR_IDENTITY_MISSING',
    (w) => {
      const body = w.b.build({ MessageType: 'Authenticate', Topic: TOPIC });
      return fetch(`${w.h.url}/mdm/checkin`, { method: 'PUT', headers: CHECKIN, body }).then(
        async (res) => ({
          status: res.status,
          contentType: null,
          body: Buffer.from(await res.arrayBuffer()),
        }),
      );
    },
  ],
  ['certificate from a foreign CA', 400, 'ERR_CERT_CHAIN', (w) => w.foreign.authenticate()],
  ['expired certificate', 400, 'ERR_CERT_EXPIRED', (w) => w.expired.authenticate()],
  [
    'certificate bound to another enrollment (Authenticate)',
    400,
    'ERR_CERT_BINDING',
    (w) => w.a.authenticate({ UDID: w.b.keys.UDID }),
  ],
  [
    'certificate bound to another enrollment (report)',
    400,
    'ERR_CERT_BINDING',
    (w) => w.a.report('Idle', { UDID: w.b.keys.UDID }),
  ],
  ['never-authenticated device polls', 400, 'ERR_ENROLLMENT_UNKNOWN', (w) => w.b.idle()],
  [
    'wrong Topic',
    400,
    'ERR_TOPIC',
    (w) => w.b.authenticate({ Topic: 'com.apple.mgmt.External.other' }),
  ],
  [
    "another device's bootstrap token",
    400,
    'ERR_CERT_BINDING',
    (w) => w.b.checkin('GetBootstrapToken', { UDID: w.a.keys.UDID }),
  ],
];

describe('bad-input table', () => {
  const w = {} as World;
  beforeAll(async () => {
    w.h = await startHarness(createMemoryStorage(), { handler: { maxBodyBytes: 65_536 } });
    w.a = await w.h.device();
    await w.a.enroll();
    await w.a.checkin('SetBootstrapToken', { BootstrapToken: Buffer.from('secret') });
    await w.h.core.enqueue([w.a.enrollmentId], { RequestType: 'ProfileList' });
    w.b = await w.h.device();
    const foreignCa = await createTestCa('Foreign CA');
    w.foreign = await w.h.device({ identity: await issueDeviceIdentity(foreignCa, 'foreign') });
    const past = new Date(Date.now() - 400 * 86_400_000);
    w.expired = await w.h.device({
      identity: await issueDeviceIdentity(w.h.ca, 'old', { at: past, days: 30 }),
    });
  });
  afterAll(() => w.h.close());

  test.each(cases)('fail/%s → %i, nothing stored', async (_name, status, code, send) => {
    const before = await snapshot(w);
    const res = await send(w);
    expect(res.status).toBe(status);
    if (code !== undefined) expect(JSON.parse(res.body.toString())).toMatchObject({ code });
    expect(await snapshot(w)).toBe(before);
  });
});
