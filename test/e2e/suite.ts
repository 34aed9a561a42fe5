/**
 * The end-to-end suite over real HTTP against the core with a given storage adapter, called once
 * per adapter (memory, SQLite). Device journeys use simulated devices (`src/sim`); tests that
 * answer a command by hand, skip an answer, or forge an identity use the emulator.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { MdmStorage } from '../../src/storage/ports.js';
import { commandOf, expectOk, type DeviceEmulator } from '../support/device-emulator.js';
import { issueDeviceIdentity } from '../support/device-pki.js';
import { startHarness, type Harness } from './harness.js';
import { runCheckinSuite } from './suite-checkin.js';

const INFO = { RequestType: 'DeviceInformation', Queries: ['DeviceName'] };

async function statusOf(
  h: Harness,
  uuid: string,
  enrollmentId: string,
): Promise<string | undefined> {
  const record = await h.core.findCommand(uuid);
  return record?.targets.find((t) => t.enrollmentId === enrollmentId)?.status;
}

async function enrolled(h: Harness): Promise<DeviceEmulator> {
  const dev = await h.device();
  await dev.enroll();
  return dev;
}

/** Registers the end-to-end suite for one storage adapter. */
export function runE2eSuite(
  name: string,
  makeStorage: () => Promise<MdmStorage> | MdmStorage,
): void {
  describe(`e2e (${name})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(await makeStorage());
    });
    afterAll(() => h.close());

    test('ok/enroll stores facts and push info, emits enrolled', async () => {
      const dev = await h.simDevice({ serialNumber: 'EMU0001' });
      const record = await h.core.findEnrollment(dev.enrollmentId);
      expect(record).toMatchObject({ type: 'device', enrolled: true, tokenUpdateCount: 1 });
      expect(record?.facts.SerialNumber).toBe('EMU0001');
      const [push] = await h.storage.findPushInfo([dev.enrollmentId]);
      expect(push).toMatchObject({ token: dev.pushToken, pushMagic: dev.pushMagic });
      expect(
        h.events.some((e) => e.type === 'enrolled' && e.enrollmentId === dev.enrollmentId),
      ).toBe(true);
    });

    test.each([
      ['Acknowledged', { QueryResponses: { DeviceName: 'x' } }],
      [
        'Error',
        {
          ErrorChain: [
            { ErrorCode: 12021, ErrorDomain: 'MCMDMErrorDomain', LocalizedDescription: 'no' },
          ],
        },
      ],
      ['CommandFormatError', {}],
      ['NotNow', {}],
    ])('ok/report %s is stored with its raw result', async (status, extra) => {
      const dev = await enrolled(h);
      const uuid = await h.core.enqueue([dev.enrollmentId], INFO);
      expect(await statusOf(h, uuid, dev.enrollmentId)).toBe('queued');
      expect(commandOf(await dev.idle())?.uuid).toBe(uuid);
      expect(await statusOf(h, uuid, dev.enrollmentId)).toBe('sent');
      const reply = await dev.answer(uuid, status, extra);
      expect(reply.status).toBe(200);
      expect(reply.body.length).toBe(0);
      const target = (await h.core.findCommand(uuid))?.targets[0];
      expect(target?.status).toBe(status);
      expect(Buffer.from(target?.result ?? []).toString()).toContain(`<string>${status}</string>`);
    });

    test('ok/NotNow keeps the command and the reply skips it until the next Idle', async () => {
      const dev = await enrolled(h);
      const a = await h.core.enqueue([dev.enrollmentId], INFO);
      const b = await h.core.enqueue([dev.enrollmentId], { RequestType: 'ProfileList' });
      expect(commandOf(await dev.idle())?.uuid).toBe(a);
      expect(commandOf(await dev.answer(a, 'NotNow'))?.uuid).toBe(b);
      expect((await dev.answer(b, 'Acknowledged', { ProfileList: [] })).body.length).toBe(0);
      expect(await statusOf(h, a, dev.enrollmentId)).toBe('NotNow');
      expect(commandOf(await dev.idle())?.uuid).toBe(a);
      expect((await dev.answer(a, 'Acknowledged')).body.length).toBe(0);
      expect(await statusOf(h, a, dev.enrollmentId)).toBe('Acknowledged');
    });

    test('ok/cancel before answer; cancel after acknowledgement refused', async () => {
      const dev = await h.simDevice();
      const a = await h.core.enqueue([dev.enrollmentId], INFO);
      expect(await h.core.cancel(dev.enrollmentId, a)).toBe(true);
      const first = await dev.connect();
      expect(first.errors).toEqual([]);
      expect(first.requestTypes).toEqual({});
      expect(await statusOf(h, a, dev.enrollmentId)).toBe('canceled');
      const b = await h.core.enqueue([dev.enrollmentId], INFO);
      const second = await dev.connect();
      expect(second.commands).toEqual({ Acknowledged: 1 });
      expect(await h.core.cancel(dev.enrollmentId, b)).toBe(false);
    });

    test('ok/expired command is not sent', async () => {
      const dev = await h.simDevice();
      const a = await h.core.enqueue([dev.enrollmentId], INFO, {
        expiresAt: new Date(Date.now() - 1000),
      });
      const session = await dev.connect();
      expect(session.errors).toEqual([]);
      expect(session.requestTypes).toEqual({});
      expect(await statusOf(h, a, dev.enrollmentId)).toBe('expired');
    });

    test('ok/one command to many enrollments is stored once, each gets it', async () => {
      const [d1, d2] = [await enrolled(h), await enrolled(h)];
      const uuid = await h.core.enqueue([d1.enrollmentId, d2.enrollmentId], INFO);
      expect((await h.core.findCommand(uuid))?.targets).toHaveLength(2);
      expect(commandOf(await d1.idle())?.uuid).toBe(uuid);
      expect(commandOf(await d2.idle())?.uuid).toBe(uuid);
      await d1.answer(uuid, 'Acknowledged');
      expect(await statusOf(h, uuid, d1.enrollmentId)).toBe('Acknowledged');
      expect(await statusOf(h, uuid, d2.enrollmentId)).toBe('sent');
    });

    test("fail/a device cannot report on another device's command", async () => {
      const [d1, d2] = [await enrolled(h), await enrolled(h)];
      const uuid = await h.core.enqueue([d1.enrollmentId], INFO);
      expect((await d2.answer(uuid, 'Acknowledged')).status).toBe(200);
      expect(await statusOf(h, uuid, d1.enrollmentId)).toBe('queued');
      expect(await statusOf(h, uuid, d2.enrollmentId)).toBeUndefined();
    });

    test('ok/macos user channel is its own enrollment with its own queue', async () => {
      const dev = await h.simDevice({ platform: 'macOS', osVersion: '15.1' });
      const user = dev.user('alice');
      await user.enroll();
      expect(user.enrollmentId.startsWith(`${dev.enrollmentId}:`)).toBe(true);
      expect(await h.core.findEnrollment(user.enrollmentId)).toMatchObject({
        type: 'user',
        parentId: dev.enrollmentId,
      });
      const forUser = await h.core.enqueue([user.enrollmentId], { RequestType: 'ProfileList' });
      const device = await dev.connect();
      expect(device.errors).toEqual([]);
      expect(device.requestTypes).toEqual({});
      const session = await user.connect();
      expect(session.errors).toEqual([]);
      expect(session.requestTypes).toEqual({ ProfileList: 1 });
      expect(await statusOf(h, forUser, user.enrollmentId)).toBe('Acknowledged');
    });

    // The simulator has no Shared iPad yet: this channel is crafted with the emulator.
    test.each([['shared-ipad', 'shared-ipad-user']] as const)(
      'ok/%s user channel is its own enrollment with its own queue',
      async (kind, type) => {
        const dev = await enrolled(h);
        const user = dev.user(kind);
        await user.enroll();
        expect(user.enrollmentId.startsWith(`${dev.enrollmentId}:`)).toBe(true);
        expect(await h.core.findEnrollment(user.enrollmentId)).toMatchObject({
          type,
          parentId: dev.enrollmentId,
        });
        const forUser = await h.core.enqueue([user.enrollmentId], { RequestType: 'ProfileList' });
        expect((await dev.idle()).body.length).toBe(0);
        expect(commandOf(await user.idle())?.uuid).toBe(forUser);
      },
    );

    test('ok/User Enrollment device and user channels', async () => {
      const dev = await h.device({ keys: { EnrollmentID: `UE-${String(Date.now())}` } });
      await dev.enroll();
      expect((await h.core.findEnrollment(dev.enrollmentId))?.type).toBe('user-enrollment-device');
      const user = dev.user('user-enrollment');
      await user.enroll();
      expect((await h.core.findEnrollment(user.enrollmentId))?.type).toBe('user-enrollment-user');
    });

    test('ok/re-enroll clears the queue and emits re-enrolled', async () => {
      const dev = await enrolled(h);
      const pending = await h.core.enqueue([dev.enrollmentId], INFO);
      expectOk(await dev.authenticate(), 'Authenticate');
      expect((await h.core.findEnrollment(dev.enrollmentId))?.enrolled).toBe(false);
      expect(await statusOf(h, pending, dev.enrollmentId)).toBe('canceled');
      expectOk(await dev.tokenUpdate(), 'TokenUpdate');
      expect(
        h.events.some((e) => e.type === 're-enrolled' && e.enrollmentId === dev.enrollmentId),
      ).toBe(true);
    });

    test('fail/takeover by subject: a certificate with the bound subject and issuer is refused', async () => {
      const dev = await enrolled(h);
      const pending = await h.core.enqueue([dev.enrollmentId], INFO);
      const before = await h.storage.findCertificateBinding(dev.enrollmentId);
      const twin = await h.device({
        keys: dev.keys,
        identity: await issueDeviceIdentity(
          h.ca,
          dev.options.identity.certificate.subject.replace(/^CN=/, ''),
        ),
      });
      expect(twin.options.identity.certificate.subject).toBe(
        dev.options.identity.certificate.subject,
      );
      for (const res of [await twin.idle(), await twin.authenticate(), await twin.tokenUpdate()]) {
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'ERR_CERT_BINDING' });
      }
      expect(await h.storage.findCertificateBinding(dev.enrollmentId)).toEqual(before);
      expect(await statusOf(h, pending, dev.enrollmentId)).toBe('queued');
      expect((await dev.idle()).status).toBe(200);
    });

    test('fail/a CA certificate with another subject cannot take over an enrollment', async () => {
      const dev = await enrolled(h);
      const thief = await h.device({ keys: dev.keys });
      const res = await thief.idle();
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'ERR_CERT_BINDING' });
      expect((await dev.idle()).status).toBe(200);
    });

    test('ok/CheckOut unenrolls, cancels the queue; later polls get 403 unrecognized', async () => {
      const dev = await enrolled(h);
      const pending = await h.core.enqueue([dev.enrollmentId], INFO);
      expectOk(await dev.checkin('CheckOut', { Topic: dev.options.topic }), 'CheckOut');
      expect((await h.core.findEnrollment(dev.enrollmentId))?.enrolled).toBe(false);
      expect(await statusOf(h, pending, dev.enrollmentId)).toBe('canceled');
      expect(
        h.events.some((e) => e.type === 'checked-out' && e.enrollmentId === dev.enrollmentId),
      ).toBe(true);
      const poll = await dev.idle();
      expect(poll.status).toBe(403);
      expect(JSON.parse(poll.body.toString())).toEqual({ code: 'com.apple.unrecognized.device' });
    });

    test('ok/proxy header identity (RFC 9440)', async () => {
      const dev = await h.device({ mode: 'header' });
      await dev.enroll();
      expect((await dev.idle()).status).toBe(200);
    });

    runCheckinSuite(() => h);
  });
}
