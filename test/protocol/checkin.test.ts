import { describe, expect, test } from '@jest/globals';
import * as plist from 'plist';
import { decodeCheckin } from '../../src/protocol/checkin.js';
import { decodeReport, encodeCommand } from '../../src/protocol/command.js';
import { resolveEnrollment, SHARED_IPAD_USER_ID } from '../../src/protocol/enrollment-id.js';

const xml = (v: Record<string, unknown>): string => plist.build(v as plist.PlistValue);

describe('decodeCheckin', () => {
  test.each([
    ['Authenticate', { Topic: 't', UDID: 'U', SerialNumber: 'S' }],
    ['TokenUpdate', { Topic: 't', UDID: 'U', Token: Buffer.from([1]), PushMagic: 'm' }],
    ['CheckOut', { UDID: 'U' }],
    ['UserAuthenticate', { UDID: 'U', UserID: 'G' }],
    ['SetBootstrapToken', { UDID: 'U', BootstrapToken: Buffer.from('b') }],
    ['GetBootstrapToken', { UDID: 'U' }],
    ['GetToken', { UDID: 'U', TokenServiceType: 'com.apple.maid' }],
    ['DeclarativeManagement', { UDID: 'U', Endpoint: 'tokens', Data: Buffer.from('{}') }],
  ])('ok/%s decodes as known, extra keys kept', (type, fields) => {
    const out = decodeCheckin(xml({ MessageType: type, NewerKey: 'x', ...fields }));
    expect(out.known).toBe(true);
    expect(out.message).toMatchObject({ MessageType: type, NewerKey: 'x' });
  });

  test('ok/newer MessageType decodes as unknown', () => {
    expect(decodeCheckin(xml({ MessageType: 'ReturnToService', UDID: 'U' })).known).toBe(false);
  });

  test.each([
    ['no MessageType', { UDID: 'U' }, 'ERR_CHECKIN_FORMAT'],
    ['MessageType not a string', { MessageType: 1 }, 'ERR_CHECKIN_FORMAT'],
    [
      'Authenticate without Topic',
      { MessageType: 'Authenticate', UDID: 'U' },
      'ERR_CHECKIN_FORMAT',
    ],
    [
      'Token as string',
      { MessageType: 'TokenUpdate', Topic: 't', Token: 'x', PushMagic: 'm' },
      'ERR_CHECKIN_FORMAT',
    ],
    ['UDID as integer', { MessageType: 'CheckOut', UDID: 5 }, 'ERR_CHECKIN_FORMAT'],
    ['GetToken without service', { MessageType: 'GetToken', UDID: 'U' }, 'ERR_CHECKIN_FORMAT'],
  ])('fail/%s', (_name, dict, code) => {
    expect(() => decodeCheckin(xml(dict))).toThrow(expect.objectContaining({ code, status: 400 }));
  });

  test('fail/oversized plist', () => {
    const body = xml({ MessageType: 'CheckOut', UDID: 'U', Pad: 'x'.repeat(2000) });
    expect(() => decodeCheckin(body, { maxBytes: 1000 })).toThrow(
      expect.objectContaining({ code: 'ERR_PLIST_TOO_LARGE' }),
    );
  });

  test('fail/__proto__ key leaves Object.prototype untouched', () => {
    const body =
      '<plist><dict><key>MessageType</key><string>CheckOut</string><key>__proto__</key><dict><key>polluted</key><true/></dict></dict></plist>';
    decodeCheckin(body);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('resolveEnrollment', () => {
  test.each([
    [{ UDID: 'D' }, { id: 'D', type: 'device', deviceId: 'D' }],
    [
      { UDID: 'D', UserID: 'G' },
      { id: 'D:G', type: 'user', parentId: 'D' },
    ],
    [
      { UDID: 'D', UserID: SHARED_IPAD_USER_ID, UserShortName: 'a@b.c' },
      { id: 'D:a@b.c', type: 'shared-ipad-user' },
    ],
    [{ EnrollmentID: 'E' }, { id: 'E', type: 'user-enrollment-device' }],
    [
      { EnrollmentID: 'E', EnrollmentUserID: 'EU' },
      { id: 'E:EU', type: 'user-enrollment-user', parentId: 'E' },
    ],
  ])('ok/%j', (keys, expected) => {
    expect(resolveEnrollment(keys)).toMatchObject(expected);
  });

  test.each([
    ['none', {}],
    ['colon in UDID', { UDID: 'A:B' }],
    ['control character in UserID', { UDID: 'D', UserID: 'a\nb' }],
    ['Shared iPad without short name', { UDID: 'D', UserID: SHARED_IPAD_USER_ID }],
    ['overlong UDID', { UDID: 'A'.repeat(200) }],
  ])('fail/%s', (_name, keys) => {
    expect(() => resolveEnrollment(keys)).toThrow(
      expect.objectContaining({ code: 'ERR_ENROLLMENT_ID', status: 400 }),
    );
  });
});

describe('command envelope and report', () => {
  test('ok/encodeCommand round-trips through an independent parser', () => {
    const out = plist.parse(
      encodeCommand('U-1', { RequestType: 'DeviceLock', PIN: '123456' }).toString(),
    );
    expect(out).toEqual({
      CommandUUID: 'U-1',
      Command: { RequestType: 'DeviceLock', PIN: '123456' },
    });
  });

  test.each([
    ['bad uuid', 'a b'],
    ['empty uuid', ''],
  ])('fail/encodeCommand %s throws TypeError', (_n, uuid) => {
    expect(() => encodeCommand(uuid, { RequestType: 'X' })).toThrow(TypeError);
  });

  test.each([
    ['unknown status', { Status: 'Maybe', UDID: 'U' }],
    ['missing uuid', { Status: 'Error', UDID: 'U' }],
    ['ErrorChain not array', { Status: 'Error', CommandUUID: 'c', ErrorChain: 'x' }],
    ['UDID not string', { Status: 'Idle', UDID: 1 }],
  ])('fail/decodeReport %s', (_n, dict) => {
    expect(() => decodeReport(xml(dict))).toThrow(
      expect.objectContaining({ code: 'ERR_REPORT_FORMAT' }),
    );
  });

  test('ok/decodeReport keeps response keys', () => {
    const r = decodeReport(
      xml({ Status: 'Acknowledged', CommandUUID: 'c', UDID: 'U', QueryResponses: { A: 1 } }),
    );
    expect(r.QueryResponses).toEqual({ A: 1 });
  });
});
