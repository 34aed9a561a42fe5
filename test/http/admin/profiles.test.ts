import { describe, expect, test } from '@jest/globals';
import { decryptProfile } from '../../../src/profile/encrypt.js';
import { setRemovalDate, setRemovalDisallowed } from '../../../src/profile/removal-policy.js';
import { signProfile } from '../../../src/profile/sign.js';
import { verifyProfile } from '../../../src/profile/verify.js';
import { decodePlist, encodePlist, type PlistDict } from '../../../src/protocol/plist.js';
import {
  brokenProfile,
  device,
  fixtureProfile,
  signing,
  uploader,
  wifiXml,
} from '../../management/profile-fixtures.js';
import { profilesApi, type ProfilesApi } from './profiles-fixture.js';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const uploadBody = (groupId: string, bytes: Uint8Array = wifiXml(), extra = {}) => ({
  groupId,
  mobileconfig: b64(bytes),
  ...extra,
});

async function uploaded(api: ProfilesApi, key: string, groupId: string, identifier?: string) {
  const res = await api.call(
    key,
    'POST',
    '/api/v1/profiles',
    uploadBody(groupId, wifiXml(identifier)),
  );
  expect(res.status).toBe(201);
  return (res.body.profile as { id: string }).id;
}

describe('POST /api/v1/profiles', () => {
  test('ok/plain XML: 201 with the profile, version 1, compatibility and removal rules', async () => {
    const api = await profilesApi();
    const res = await api.call(api.keys.root, 'POST', '/api/v1/profiles', uploadBody('global'));
    expect(res.status).toBe(201);
    expect(res.body.profile).toMatchObject({
      identifier: 'com.example.orchard.wifi',
      groupId: 'global',
      latestVersion: 1,
      assignmentType: 'auto',
    });
    expect(res.body.version).toMatchObject({ version: 1, uploadedSigner: null });
    expect(res.body.signer).toBeNull();
    expect((res.body.compatibility as { platforms: string[] }).platforms).toContain('iOS');
    expect(res.body.removal).toMatchObject({ removalDisallowed: false, removalDate: null });
    const audit = await api.call(api.keys.root, 'GET', '/api/v1/audit');
    expect((audit.body.items as { action: string }[]).map((e) => e.action)).toContain(
      'profile.create',
    );
  });

  test('ok/signed upload: stored unsigned, signer reported', async () => {
    const api = await profilesApi();
    const signed = signProfile(fixtureProfile('wifi'), { ...uploader, signingTime: false });
    const res = await api.call(
      api.keys.root,
      'POST',
      '/api/v1/profiles',
      uploadBody('global', signed),
    );
    expect(res.status).toBe(201);
    expect(res.body.signer).toEqual({ subject: 'CN=Orchard Fixture EC Device', trusted: true });
    const id = (res.body.profile as { id: string }).id;
    const v1 = await api.call(api.keys.root, 'GET', `/api/v1/profiles/${id}/versions/1`);
    expect(v1.body.profile).toMatchObject({ PayloadIdentifier: 'com.example.orchard.wifi' });
    expect(v1.body.uploadedSigner).toBe('CN=Orchard Fixture EC Device');
  });

  const tampered = (): Buffer => {
    const signed = signProfile(fixtureProfile('wifi'), { ...uploader, signingTime: false });
    signed[signed.indexOf(Buffer.from('Example-Office'))] = 0x46;
    return signed;
  };
  test.each([
    [
      'fail/junk bytes',
      { mobileconfig: b64(Buffer.from('junk, not a profile')) },
      422,
      'ERR_PROFILE_INVALID',
    ],
    ['fail/tampered signature', { mobileconfig: b64(tampered()) }, 422, 'ERR_PROFILE_INVALID'],
    [
      'fail/schema errors',
      { mobileconfig: b64(encodePlist(brokenProfile())) },
      422,
      'ERR_PROFILE_INVALID',
    ],
    ['fail/array plist', { mobileconfig: b64(encodePlist([1])) }, 422, 'ERR_PROFILE_INVALID'],
    ['fail/not base64', { mobileconfig: 'not base64!' }, 400, 'ERR_BAD_REQUEST'],
    ['fail/empty base64', { mobileconfig: '' }, 400, 'ERR_BAD_REQUEST'],
    ['fail/missing mobileconfig', {}, 400, 'ERR_BAD_REQUEST'],
    ['fail/unknown field', { mobileconfig: b64(wifiXml()), color: 'red' }, 400, 'ERR_BAD_REQUEST'],
    [
      'fail/bad assignment type',
      { mobileconfig: b64(wifiXml()), assignmentType: 'x' },
      400,
      'ERR_BAD_REQUEST',
    ],
    [
      'fail/unknown group',
      { mobileconfig: b64(wifiXml()), groupId: 'og_none' },
      404,
      'ERR_GROUP_NOT_FOUND',
    ],
    ['fail/huge base64', { mobileconfig: 'A'.repeat(5 * 1024 * 1024) }, 413, undefined],
  ])('%s', async (_name, fields, status, code) => {
    const api = await profilesApi();
    const res = await api.call(api.keys.root, 'POST', '/api/v1/profiles', {
      groupId: 'global',
      ...fields,
    });
    expect(res.status).toBe(status);
    if (code !== undefined) expect(res.body.code).toBe(code);
  });

  test('fail/schema errors list the issues', async () => {
    const api = await profilesApi();
    const body = uploadBody('global', encodePlist(brokenProfile()));
    const res = await api.call(api.keys.root, 'POST', '/api/v1/profiles', body);
    expect((res.body.issues as { code: string }[]).map((i) => i.code)).toEqual(
      expect.arrayContaining(['unknown-key', 'wrong-type']),
    );
  });

  test('fail/identifier taken: 409', async () => {
    const api = await profilesApi();
    await uploaded(api, api.keys.root, 'global');
    const res = await api.call(api.keys.root, 'POST', '/api/v1/profiles', uploadBody('global'));
    expect([res.status, res.body.code]).toEqual([409, 'ERR_PROFILE_IDENTIFIER_TAKEN']);
  });
});

describe('A12 visibility and editing', () => {
  test('A12 a Sales admin sees Global-owned and Sales-owned profiles, not Engineering-owned ones', async () => {
    const api = await profilesApi();
    const global = await uploaded(api, api.keys.root, 'global', 'com.example.global');
    const sales = await uploaded(api, api.keys.sales, api.groups.sales, 'com.example.sales');
    const eng = await uploaded(api, api.keys.eng, api.groups.eng, 'com.example.eng');
    const list = await api.call(api.keys.sales, 'GET', '/api/v1/profiles');
    expect((list.body.items as { id: string }[]).map((p) => p.id).sort()).toEqual(
      [global, sales].sort(),
    );
    const all = await api.call(api.keys.root, 'GET', '/api/v1/profiles?limit=2');
    expect((all.body.items as unknown[]).length).toBe(2);
    const rest = await api.call(
      api.keys.root,
      'GET',
      `/api/v1/profiles?cursor=${String(all.body.nextCursor)}`,
    );
    expect((rest.body.items as unknown[]).length).toBe(1);

    expect((await api.call(api.keys.sales, 'GET', `/api/v1/profiles/${global}`)).status).toBe(200);
    const hidden = await api.call(api.keys.sales, 'GET', `/api/v1/profiles/${eng}`);
    expect([hidden.status, hidden.body.code]).toEqual([404, 'ERR_PROFILE_NOT_FOUND']);
    const edit = await api.call(api.keys.sales, 'PATCH', `/api/v1/profiles/${global}`, {
      name: 'x',
    });
    expect([edit.status, edit.body.code]).toEqual([403, 'ERR_ADMIN_SCOPE']);
    const del = await api.call(api.keys.sales, 'DELETE', `/api/v1/profiles/${eng}`);
    expect(del.status).toBe(404);
    const filtered = await api.call(
      api.keys.sales,
      'GET',
      `/api/v1/profiles?groupId=${api.groups.eng}`,
    );
    expect(filtered.status).toBe(404);
  });

  test('A12 scoped uploads, moves and deletes', async () => {
    const api = await profilesApi();
    const atGlobal = await api.call(
      api.keys.sales,
      'POST',
      '/api/v1/profiles',
      uploadBody('global'),
    );
    expect([atGlobal.status, atGlobal.body.code]).toEqual([403, 'ERR_ADMIN_SCOPE']);
    const reader = await api.call(
      api.keys.salesReader,
      'POST',
      '/api/v1/profiles',
      uploadBody(api.groups.sales),
    );
    expect(reader.status).toBe(403);
    const id = await uploaded(api, api.keys.sales, api.groups.sales);
    const move = await api.call(api.keys.sales, 'PATCH', `/api/v1/profiles/${id}`, {
      groupId: api.groups.eng,
    });
    expect(move.status).toBe(404);
    const rename = await api.call(api.keys.sales, 'PATCH', `/api/v1/profiles/${id}`, {
      name: 'Office',
    });
    expect([rename.status, rename.body.name]).toEqual([200, 'Office']);
    const empty = await api.call(api.keys.sales, 'PATCH', `/api/v1/profiles/${id}`, {});
    expect([empty.status, empty.body.code]).toEqual([400, 'ERR_BAD_REQUEST']);
    expect((await api.call(api.keys.sales, 'DELETE', `/api/v1/profiles/${id}`)).status).toBe(200);
    expect((await api.call(api.keys.sales, 'GET', `/api/v1/profiles/${id}`)).status).toBe(404);
  });
});

describe('A13 over the API', () => {
  test('A13 interactive upload refused until enabled at the OG; switching refused after disabling', async () => {
    const api = await profilesApi();
    const interactive = { assignmentType: 'interactive' };
    const body = uploadBody(api.groups.sales, wifiXml('com.example.i'), interactive);
    const refused = await api.call(api.keys.sales, 'POST', '/api/v1/profiles', body);
    expect([refused.status, refused.body.code]).toEqual([422, 'ERR_INTERACTIVE_DISABLED']);
    const write = { currentSetting: 'override' as const, values: { interactiveEnabled: true } };
    await api.deps.groups.writeSettings(api.groups.sales, 'profile-options', write);
    const ok = await api.call(api.keys.sales, 'POST', '/api/v1/profiles', body);
    expect(ok.status).toBe(201);
    const other = await uploaded(api, api.keys.sales, api.groups.sales, 'com.example.o');
    await api.deps.groups.writeSettings(api.groups.sales, 'profile-options', {
      values: { interactiveEnabled: false },
    });
    const id = (ok.body.profile as { id: string }).id;
    const kept = await api.call(api.keys.sales, 'GET', `/api/v1/profiles/${id}`);
    expect(kept.body.assignmentType).toBe('interactive');
    const switched = await api.call(
      api.keys.sales,
      'PATCH',
      `/api/v1/profiles/${other}`,
      interactive,
    );
    expect([switched.status, switched.body.code]).toEqual([422, 'ERR_INTERACTIVE_DISABLED']);
  });
});

describe('versions', () => {
  test('ok/new version with a reused PayloadUUID gets a fresh one; list and read', async () => {
    const api = await profilesApi();
    const id = await uploaded(api, api.keys.root, 'global');
    const path = `/api/v1/profiles/${id}/versions`;
    const v2 = await api.call(api.keys.root, 'POST', path, { mobileconfig: b64(wifiXml()) });
    expect(v2.status).toBe(201);
    expect((v2.body.warnings as { code: string }[]).map((w) => w.code)).toContain(
      'payload-uuid-replaced',
    );
    const list = await api.call(api.keys.root, 'GET', path);
    expect((list.body.items as { version: number }[]).map((v) => v.version)).toEqual([2, 1]);
    const two = await api.call(api.keys.root, 'GET', `${path}/2`);
    expect(two.body.payloadUuid).toBe((two.body.profile as PlistDict).PayloadUUID);
    expect((await api.call(api.keys.root, 'GET', `${path}/9`)).status).toBe(404);
    expect((await api.call(api.keys.root, 'GET', `${path}/0`)).status).toBe(400);
    const detail = await api.call(api.keys.root, 'GET', `/api/v1/profiles/${id}`);
    expect(detail.body).toMatchObject({ latestVersion: 2, latest: { version: 2 } });
  });

  test('fail/identifier mismatch: 422', async () => {
    const api = await profilesApi();
    const id = await uploaded(api, api.keys.root, 'global');
    const res = await api.call(api.keys.root, 'POST', `/api/v1/profiles/${id}/versions`, {
      mobileconfig: b64(wifiXml('com.example.other')),
    });
    expect([res.status, res.body.code]).toEqual([422, 'ERR_PROFILE_IDENTIFIER_MISMATCH']);
  });

  test('ok/removal rules of a locked profile', async () => {
    const api = await profilesApi();
    const date = new Date('2027-01-01T00:00:00Z');
    const locked = encodePlist(
      setRemovalDate(setRemovalDisallowed(fixtureProfile('wifi'), true), date),
    );
    const res = await api.call(
      api.keys.root,
      'POST',
      '/api/v1/profiles',
      uploadBody('global', locked),
    );
    const cases = (res.body.removal as { cases: { case: string; outcome: string }[] }).cases;
    expect(cases.find((c) => c.case === 'user/iphone-ade-supervised')?.outcome).toBe('denied');
    expect(res.body.removal).toMatchObject({
      removalDisallowed: true,
      removalDate: '2027-01-01T00:00:00.000Z',
    });
  });
});

describe('POST /api/v1/profiles/{id}/install', () => {
  const payloadOf = async (api: ProfilesApi, uuid: string): Promise<Uint8Array> => {
    const command = await api.deps.core.findCommand(uuid);
    const body = decodePlist(command!.body) as {
      Command: { RequestType: string; Payload: Uint8Array };
    };
    expect(body.Command.RequestType).toBe('InstallProfile');
    return body.Command.Payload;
  };

  test('ok/one InstallProfile for all devices, signed by the library identity', async () => {
    const api = await profilesApi();
    await api.enroll('DEV-1');
    await api.enroll('DEV-2');
    const id = await uploaded(api, api.keys.root, 'global');
    const res = await api.call(api.keys.root, 'POST', `/api/v1/profiles/${id}/install`, {
      enrollmentIds: ['DEV-1', 'DEV-2'],
    });
    expect(res.status).toBe(201);
    const commands = res.body.commands as { enrollmentId: string; commandUuid: string }[];
    expect(new Set(commands.map((c) => c.commandUuid)).size).toBe(1);
    const verified = verifyProfile(await payloadOf(api, commands[0]!.commandUuid), {
      roots: [signing.certificate],
    });
    expect(verified.profile).toEqual(fixtureProfile('wifi'));
  });

  test('ok/encrypted: one command per device, each decrypting to the payloads', async () => {
    const api = await profilesApi();
    await api.enroll('DEV-1');
    await api.enroll('DEV-2');
    const id = await uploaded(api, api.keys.root, 'global');
    const res = await api.call(api.keys.root, 'POST', `/api/v1/profiles/${id}/install`, {
      enrollmentIds: ['DEV-1', 'DEV-2'],
      encrypt: true,
    });
    expect(res.status).toBe(201);
    const commands = res.body.commands as { commandUuid: string }[];
    expect(new Set(commands.map((c) => c.commandUuid)).size).toBe(2);
    for (const c of commands) {
      const verified = verifyProfile(await payloadOf(api, c.commandUuid), {
        roots: [signing.certificate],
      });
      const plain = decryptProfile(verified.profile, { privateKey: device.privateKey });
      expect(plain.PayloadContent).toEqual(fixtureProfile('wifi').PayloadContent);
    }
  });

  test.each([
    ['fail/scoped caller: 403', 'sales', { enrollmentIds: ['DEV-1'] }, 403, 'ERR_ADMIN_SCOPE'],
    ['fail/unknown enrollment: 404', 'root', { enrollmentIds: ['NOPE'] }, 404, 'ERR_NOT_FOUND'],
    ['fail/no ids: 400', 'root', { enrollmentIds: [] }, 400, 'ERR_BAD_REQUEST'],
    [
      'fail/unknown version: 404',
      'root',
      { enrollmentIds: ['DEV-1'], version: 5 },
      404,
      'ERR_PROFILE_NOT_FOUND',
    ],
    [
      'fail/encrypt without a known certificate: 409',
      'root',
      { enrollmentIds: ['DEV-X'], encrypt: true },
      409,
      'ERR_CONFLICT',
    ],
    ['fail/read key: 403', 'rootRead', { enrollmentIds: ['DEV-1'] }, 403, undefined],
  ] as const)('%s', async (_name, who, body, status, code) => {
    const api = await profilesApi();
    await api.enroll('DEV-1');
    await api.enroll('DEV-X', { issued: false });
    const id = await uploaded(api, api.keys.root, 'global');
    const res = await api.call(api.keys[who], 'POST', `/api/v1/profiles/${id}/install`, body);
    expect(res.status).toBe(status);
    if (code !== undefined) expect(res.body.code).toBe(code);
  });
});

describe('what the library refuses to send', () => {
  test('M5 an Interactive profile is never installed by an administrator: 409', async () => {
    const api = await profilesApi();
    await api.enroll('DEV-1');
    await api.deps.groups.writeSettings('global', 'profile-options', {
      values: { interactiveEnabled: true },
    });
    const body = uploadBody('global', wifiXml('com.example.i'), { assignmentType: 'interactive' });
    const created = await api.call(api.keys.root, 'POST', '/api/v1/profiles', body);
    expect(created.status).toBe(201);
    const id = (created.body.profile as { id: string }).id;
    const res = await api.call(api.keys.root, 'POST', `/api/v1/profiles/${id}/install`, {
      enrollmentIds: ['DEV-1'],
    });
    expect([res.status, res.body.code]).toEqual([409, 'ERR_PROFILE_INTERACTIVE']);
    const queued = await api.storage.listForEnrollment('DEV-1', { limit: 10 });
    expect(queued.items).toEqual([]);
  });

  test('fail/an enrollment profile (com.apple.mdm payload) is not a library profile: 422', async () => {
    const api = await profilesApi();
    const profile = fixtureProfile('wifi');
    const mdm = {
      PayloadType: 'com.apple.mdm',
      PayloadIdentifier: 'com.example.mdm',
      PayloadUUID: '7D5F0C52-6C59-4C77-9E0B-2E0F1C4F6C11',
      PayloadVersion: 1,
      ServerURL: 'https://mdm.example.com/mdm',
      Topic: 'com.apple.mgmt.External.x',
      IdentityCertificateUUID: '7D5F0C52-6C59-4C77-9E0B-2E0F1C4F6C12',
      AccessRights: 8191,
    };
    profile.PayloadContent = [...(profile.PayloadContent as PlistDict[]), mdm];
    const res = await api.call(
      api.keys.root,
      'POST',
      '/api/v1/profiles',
      uploadBody('global', encodePlist(profile)),
    );
    expect([res.status, res.body.code]).toEqual([422, 'ERR_PROFILE_INVALID']);
    expect((res.body.issues as { code: string }[]).map((i) => i.code)).toContain('mdm-payload');
  });
});
