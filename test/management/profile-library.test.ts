import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { ManagementError } from '../../src/errors.js';
import { createGroupService } from '../../src/management/groups-service.js';
import { createProfileLibrary } from '../../src/management/profile-library.js';
import { decryptProfile, encryptProfile } from '../../src/profile/encrypt.js';
import { setRemovalDisallowed } from '../../src/profile/removal-policy.js';
import { signProfile } from '../../src/profile/sign.js';
import { verifyProfile } from '../../src/profile/verify.js';
import { decodePlist, encodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { ROOT_GROUP_ID } from '../../src/storage/ports.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';
import { createTestCa, issueDeviceIdentity } from '../support/device-pki.js';
import {
  brokenProfile,
  device,
  fixtureProfile,
  libraryFixture,
  rejectCode,
  signing,
  uploader,
  wifiXml,
} from './profile-fixtures.js';

const actor = 'adm_test';
const upload = (content: Uint8Array, extra: Record<string, unknown> = {}) => ({
  groupId: ROOT_GROUP_ID,
  content,
  actor,
  ...extra,
});
const signedBy = (
  profile: PlistDict,
  who: { certificate: X509Certificate; privateKey: KeyObject },
) =>
  signProfile(profile, {
    certificate: who.certificate,
    privateKey: who.privateKey,
    signingTime: false,
  });

describe('upload', () => {
  test.each([
    ['ok/xml', () => wifiXml()],
    ['ok/binary plist', () => encodePlist(fixtureProfile('wifi'), { format: 'binary' })],
  ])('%s: stored unsigned as XML, version 1 with its PayloadUUID', async (_name, bytes) => {
    const { library } = libraryFixture();
    const result = await library.upload(upload(bytes()));
    expect(result.profile).toMatchObject({
      identifier: 'com.example.orchard.wifi',
      name: 'Office Wi-Fi',
      assignmentType: 'auto',
      latestVersion: 1,
      groupId: ROOT_GROUP_ID,
    });
    expect(result.version.payloadUuid).toBe(fixtureProfile('wifi').PayloadUUID);
    expect(result.signer).toBeUndefined();
    const read = await library.read(result.profile.id);
    expect(read.content).toEqual(fixtureProfile('wifi'));
    expect(read.version.content.subarray(0, 5).toString()).toBe('<?xml');
    expect(result.compatibility.map((c) => c.platform)).toContain('iOS');
  });

  test('ok/signed by a known signer: stored unsigned, signer recorded as trusted', async () => {
    const { library } = libraryFixture();
    const result = await library.upload(upload(signedBy(fixtureProfile('wifi'), uploader)));
    expect(result.signer).toEqual({ subject: 'CN=Orchard Fixture EC Device', trusted: true });
    expect(result.version.uploadedSigner).toBe('CN=Orchard Fixture EC Device');
    expect((await library.read(result.profile.id)).content).toEqual(fixtureProfile('wifi'));
  });

  test('ok/signed by an unknown signer: accepted, reported untrusted', async () => {
    const { library } = libraryFixture();
    const ca = await createTestCa('Elsewhere CA');
    const stranger = await issueDeviceIdentity(ca, 'Stranger');
    const result = await library.upload(upload(signedBy(fixtureProfile('wifi'), stranger)));
    expect(result.signer).toEqual({ subject: 'CN=Stranger', trusted: false });
  });

  const tampered = (): Buffer => {
    const signed = signedBy(fixtureProfile('wifi'), uploader);
    const at = signed.indexOf(Buffer.from('Example-Office'));
    signed[at] = 0x46; // 'E' -> 'F': the content no longer matches its digest
    return signed;
  };
  const plain = (overrides: Partial<PlistDict>, drop?: string): Buffer => {
    const p = { ...fixtureProfile('wifi'), ...overrides } as PlistDict;
    return encodePlist(Object.fromEntries(Object.entries(p).filter(([k]) => k !== drop)));
  };
  test.each([
    ['fail/empty', () => Buffer.alloc(0), 'empty'],
    ['fail/junk bytes', () => Buffer.from([0x30, 0x82, 0xff, 0x00, 1, 2, 3]), 'unreadable'],
    ['fail/text', () => Buffer.from('hello, world'), 'unreadable'],
    ['fail/tampered signature', tampered, 'signature-invalid'],
    ['fail/array plist', () => encodePlist(['a']), 'not-a-profile'],
    [
      'fail/not Configuration',
      () => plain({ PayloadType: 'com.apple.wifi.managed' }),
      'not-configuration',
    ],
    ['fail/no PayloadIdentifier', () => plain({}, 'PayloadIdentifier'), 'missing'],
    ['fail/no PayloadUUID', () => plain({}, 'PayloadUUID'), 'missing'],
    ['fail/no PayloadContent', () => plain({}, 'PayloadContent'), 'missing'],
    [
      'fail/encrypted',
      () => encodePlist(encryptProfile(fixtureProfile('wifi'), { recipient: device.certificate })),
      'encrypted',
    ],
    ['fail/schema errors', () => encodePlist(brokenProfile()), 'unknown-key'],
    ['fail/too large', () => Buffer.alloc(3 * 1024 * 1024 + 1, 0x20), 'too-large'],
  ])('%s: 422 ERR_PROFILE_INVALID with issues', async (_name, bytes, issueCode) => {
    const { library } = libraryFixture();
    const error = await library.upload(upload(bytes())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManagementError);
    const m = error as ManagementError;
    expect([m.code, m.status]).toEqual(['ERR_PROFILE_INVALID', 422]);
    expect(m.issues?.map((i) => (i as { code: string }).code)).toContain(issueCode);
  });

  test('fail/identifier taken: 409', async () => {
    const { library } = libraryFixture();
    await library.upload(upload(wifiXml()));
    expect(await rejectCode(library.upload(upload(wifiXml())))).toBe(
      'ERR_PROFILE_IDENTIFIER_TAKEN',
    );
  });

  test('fail/unknown group: 404', async () => {
    const { library } = libraryFixture();
    const code = await rejectCode(library.upload(upload(wifiXml(), { groupId: 'og_nowhere' })));
    expect(code).toBe('ERR_GROUP_NOT_FOUND');
  });

  test('ok/schema warnings (a deprecated payload) are returned with the upload', async () => {
    const { library } = libraryFixture();
    const softwareUpdate: PlistDict = {
      PayloadType: 'com.apple.SoftwareUpdate',
      PayloadVersion: 1,
      PayloadIdentifier: 'com.example.orchard.su.payload',
      PayloadUUID: 'B2B2B2B2-0000-4000-8000-000000000002',
    };
    const profile = fixtureProfile('wifi', {
      PayloadIdentifier: 'com.example.orchard.su',
      PayloadContent: [softwareUpdate],
    });
    const result = await library.upload(upload(encodePlist(profile)));
    expect(result.warnings.map((w) => [w.code, w.severity])).toContainEqual([
      'deprecated',
      'warning',
    ]);
    const d = library.describe(result.version);
    expect(d.compatibility.deprecations.map((w) => w.code)).toContain('deprecated');
  });
});

describe('versions', () => {
  test('ok/a reused PayloadUUID is replaced by a fresh one, said in warnings', async () => {
    const { library } = libraryFixture();
    const first = await library.upload(upload(wifiXml()));
    const second = await library.addVersion(first.profile.id, wifiXml(), actor);
    expect(second.profile.latestVersion).toBe(2);
    expect(second.version.payloadUuid).not.toBe(first.version.payloadUuid);
    expect(second.warnings.map((w) => w.code)).toContain('payload-uuid-replaced');
    const stored = await library.read(first.profile.id, 2);
    expect(stored.content.PayloadUUID).toBe(second.version.payloadUuid);
    expect((await library.versions(first.profile.id)).map((v) => v.version)).toEqual([2, 1]);
  });

  test('ok/a new PayloadUUID is kept', async () => {
    const { library } = libraryFixture();
    const first = await library.upload(upload(wifiXml()));
    const uuid = 'C3C3C3C3-0000-4000-8000-000000000003';
    const next = await library.addVersion(first.profile.id, wifiXml(undefined, uuid), actor);
    expect(next.version.payloadUuid).toBe(uuid);
    expect(next.warnings.map((w) => w.code)).not.toContain('payload-uuid-replaced');
  });

  test('fail/identifier mismatch: 422', async () => {
    const { library } = libraryFixture();
    const first = await library.upload(upload(wifiXml()));
    const code = await rejectCode(
      library.addVersion(first.profile.id, wifiXml('com.example.other'), actor),
    );
    expect(code).toBe('ERR_PROFILE_IDENTIFIER_MISMATCH');
  });

  test('ok/another writer added a version first: retried as the next number', async () => {
    let raced = false;
    const { library, store } = libraryFixture((s) => ({
      ...s,
      findGroup: (id) => s.findGroup(id),
      async addProfileVersion(v) {
        if (!raced) {
          raced = true;
          const other = { ...v, payloadUuid: 'D4D4D4D4-0000-4000-8000-000000000004' };
          await s.addProfileVersion(other);
          return undefined;
        }
        return s.addProfileVersion(v);
      },
    }));
    const first = await library.upload(upload(wifiXml()));
    const next = await library.addVersion(first.profile.id, wifiXml(), actor);
    expect(next.version.version).toBe(3);
    expect((await store.listProfileVersions(first.profile.id)).length).toBe(3);
  });

  test('fail/unknown profile: 404', async () => {
    const { library } = libraryFixture();
    expect(await rejectCode(library.addVersion('prf_none', wifiXml(), actor))).toBe(
      'ERR_PROFILE_NOT_FOUND',
    );
    expect(await rejectCode(library.versions('prf_none'))).toBe('ERR_PROFILE_NOT_FOUND');
    expect(await rejectCode(library.delete('prf_none'))).toBe('ERR_PROFILE_NOT_FOUND');
    expect(await rejectCode(library.read('prf_none', 1))).toBe('ERR_PROFILE_NOT_FOUND');
  });
});

describe('update and delete', () => {
  test('ok/rename, change the owner, delete', async () => {
    const { library, groups } = libraryFixture();
    const sales = (await groups.createGroup({ name: 'Sales', parentId: ROOT_GROUP_ID })).group;
    const { profile } = await library.upload(upload(wifiXml()));
    const renamed = await library.update(profile.id, { name: 'Wi-Fi', groupId: sales.id });
    expect(renamed).toMatchObject({ name: 'Wi-Fi', groupId: sales.id });
    expect(await rejectCode(library.update(profile.id, { groupId: 'og_nowhere' }))).toBe(
      'ERR_GROUP_NOT_FOUND',
    );
    await library.delete(profile.id);
    expect(await library.get(profile.id)).toBeUndefined();
  });
});

describe('A13 interactive assignment type', () => {
  test('A13 interactive refused when disabled, allowed after enabling, existing stays, switching refused', async () => {
    const fx = libraryFixture();
    const sales = (await fx.groups.createGroup({ name: 'Sales', parentId: ROOT_GROUP_ID })).group;
    const interactive = { groupId: sales.id, assignmentType: 'interactive' };
    const refused = await fx.library
      .upload(upload(wifiXml('com.example.a'), interactive))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'ERR_INTERACTIVE_DISABLED',
      status: 422,
      group: sales.id,
    });

    await fx.setInteractive(sales.id, true);
    const kept = await fx.library.upload(upload(wifiXml('com.example.a'), interactive));
    expect(kept.profile.assignmentType).toBe('interactive');
    const other = await fx.library.upload(upload(wifiXml('com.example.b'), { groupId: sales.id }));

    await fx.setInteractive(sales.id, false);
    expect((await fx.library.get(kept.profile.id))?.assignmentType).toBe('interactive');
    const switched = fx.library.update(other.profile.id, { assignmentType: 'interactive' });
    expect(await rejectCode(switched)).toBe('ERR_INTERACTIVE_DISABLED');
    // Renaming the existing Interactive profile is not a switch: it stays allowed.
    expect((await fx.library.update(kept.profile.id, { name: 'A' })).assignmentType).toBe(
      'interactive',
    );
  });

  test('A13 the effective value is inherited from an ancestor', async () => {
    const fx = libraryFixture();
    const sales = (await fx.groups.createGroup({ name: 'Sales', parentId: ROOT_GROUP_ID })).group;
    await fx.setInteractive(ROOT_GROUP_ID, true);
    expect(await fx.library.interactiveEnabled(sales.id)).toBe(true);
    const ok = await fx.library.upload(
      upload(wifiXml(), { groupId: sales.id, assignmentType: 'interactive' }),
    );
    expect(ok.profile.assignmentType).toBe('interactive');
  });
});

describe('describe', () => {
  test('ok/compatibility summary and removal answers from canRemove', async () => {
    const { library } = libraryFixture();
    const locked = setRemovalDisallowed(fixtureProfile('wifi'), true);
    const { version } = await library.upload(upload(encodePlist(locked)));
    const d = library.describe(version);
    expect(d.compatibility.platforms).toEqual(expect.arrayContaining(['iOS', 'macOS']));
    expect(d.compatibility.minimumOs.iOS).toBe('7.0');
    expect(d.compatibility.enrollmentTypes.iOS).toContain('user-enrollment');
    expect(d.removal.removalDisallowed).toBe(true);
    const outcome = (c: string) => d.removal.cases.find((x) => x.case === c)?.outcome;
    expect(outcome('user/iphone-ade-supervised')).toBe('denied');
    expect(outcome('mdm/iphone-device-enrollment')).toBe('allowed');
  });

  test('ok/a restrictions profile needing supervision says so', () => {
    const { library } = libraryFixture();
    const d = library.describe(fixtureProfile('restrictions'));
    expect(d.compatibility.platforms.length).toBeGreaterThan(0);
    expect(Array.isArray(d.compatibility.requiresSupervision)).toBe(true);
  });
});

describe('renderForDevice', () => {
  test('ok/signed with the library identity; verifies to the stored profile', async () => {
    const { library } = libraryFixture();
    const { profile } = await library.upload(upload(wifiXml()));
    const signed = await library.renderForDevice(profile.id);
    const verified = verifyProfile(signed, { roots: [signing.certificate] });
    expect(verified.profile).toEqual(fixtureProfile('wifi'));
  });

  test('ok/encrypted to the device, then signed: decrypts to the same payloads', async () => {
    const { library } = libraryFixture();
    const { profile } = await library.upload(upload(wifiXml()));
    const signed = await library.renderForDevice(profile.id, 1, {
      encryptTo: device.certificate.raw,
    });
    const verified = verifyProfile(signed, { roots: [signing.certificate] });
    expect(verified.profile.PayloadContent).toBeUndefined();
    const plain = decryptProfile(verified.profile, { privateKey: device.privateKey });
    expect(plain.PayloadContent).toEqual(fixtureProfile('wifi').PayloadContent);
    expect(decodePlist(verified.content)).toMatchObject({ IsEncrypted: true });
  });

  test('fail/unknown version: 404', async () => {
    const { library } = libraryFixture();
    const { profile } = await library.upload(upload(wifiXml()));
    expect(await rejectCode(library.renderForDevice(profile.id, 9))).toBe('ERR_PROFILE_NOT_FOUND');
  });
});

describe('robustness', () => {
  const runs = Number(process.env.ORCHARD_PROPERTY_RUNS ?? 200);
  const signed = signedBy(fixtureProfile('wifi'), uploader);

  test('ok/property: any bytes, or a signed profile with one byte changed, is stored or refused 422', async () => {
    const { library } = libraryFixture();
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.tuple(fc.nat(signed.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
        const copy = Buffer.from(signed);
        copy[at] = copy[at]! ^ xor;
        return copy;
      }),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (content) => {
        const outcome = await library
          .upload(upload(content))
          .then(() => 'stored')
          .catch((e: unknown) => e);
        if (outcome === 'stored') return;
        expect(outcome).toBeInstanceOf(ManagementError);
        expect((outcome as ManagementError).status).toBeLessThan(500);
      }),
      { numRuns: runs },
    );
  });

  test('fail/a racing upload of the same identifier: the store says taken, 409', async () => {
    const { library } = libraryFixture((s) => ({
      ...s,
      findGroup: (id) => s.findGroup(id),
      findLibraryProfileByIdentifier: () => Promise.resolve(undefined),
      createLibraryProfile: () => Promise.resolve(false),
    }));
    expect(await rejectCode(library.upload(upload(wifiXml())))).toBe(
      'ERR_PROFILE_IDENTIFIER_TAKEN',
    );
  });

  test('ok/the same flow on the SQLite store', async () => {
    const store = openSqliteAdminStore({ path: ':memory:' });
    const groups = createGroupService({ store, principals: store });
    const library = createProfileLibrary({ store, groups, signing: { ...signing, chain: [] } });
    const first = await library.upload(upload(wifiXml()));
    const second = await library.addVersion(first.profile.id, wifiXml(), actor);
    expect(second.version.payloadUuid).not.toBe(first.version.payloadUuid);
    expect((await library.read(first.profile.id, 2)).content.PayloadUUID).toBe(
      second.version.payloadUuid,
    );
    expect(await rejectCode(library.upload(upload(wifiXml())))).toBe(
      'ERR_PROFILE_IDENTIFIER_TAKEN',
    );
    store.close();
  });
});
