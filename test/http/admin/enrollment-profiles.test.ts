/**
 * A device's profiles through the admin API (M6, B1) over a fake delivery service: the view, the
 * explain trace, reconciliation (202), an administrator installing an Optional profile (201) and
 * removing one Orchard installed (202), each write audited; the service's typed refusals pass
 * through; only root-scoped administrators may call; and malformed requests are refused before
 * the delivery service is touched.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { ManagementError } from '../../../src/errors.js';
import { createAdminApi, type AdminApi } from '../../../src/http/admin/index.js';
import type {
  DeliveryService,
  DeviceProfilesView,
  ExplainTrace,
} from '../../../src/management/delivery/types.js';
import type { DeviceProfileRecord } from '../../../src/storage/ports.js';
import { adminsFixture, type AdminsFixture } from './admins-fixture.js';
import { callApi } from './support.js';

const AT = new Date('2026-02-01T10:00:00Z');
const E1 = 'UDID-1';
const WIFI = 'com.example.wifi';

const VIEW: DeviceProfilesView = {
  enrollmentId: E1,
  userId: 'usr_1',
  groupId: 'sales',
  policy: { id: 'pol_1', name: 'Standard', source: { kind: 'group', groupId: 'sales' } },
  desired: [],
  installed: [
    {
      ...{ identifier: WIFI, profileId: 'prf_1', name: 'Wi-Fi', assignmentType: 'auto' },
      ...{ removal: 'always', desired: true, state: 'installed', version: 1, latestVersion: 1 },
      ...{ channel: 'policy', installedAt: AT.toISOString(), updatedAt: AT.toISOString() },
    },
  ],
  pending: [],
  skipped: [],
  failed: [],
  blocked: [],
  offered: [],
  removed: [],
};

const TRACE: ExplainTrace = {
  enrollmentId: E1,
  identifier: WIFI,
  decision: 'offered',
  summary: 'Interactive: installed only when the user starts it in the portal',
  device: {
    ...{ type: 'iPhone', platform: 'iOS', osVersion: '17.4', supervised: false },
    ...{ enrollment: 'device', unknown: [] },
  },
  groups: [],
  user: { id: 'usr_1', username: 'ann', groupId: 'sales' },
  policy: { id: 'pol_1', name: 'Standard', source: { kind: 'user' } },
  assignment: { policyId: 'pol_1', assignmentType: 'interactive', removal: 'always' },
  profile: { id: 'prf_1', name: 'Wi-Fi', groupId: 'sales', latestVersion: 1 },
  compatibility: [{ check: 'platform', ok: true, detail: 'iOS is supported' }],
  variables: [],
  removal: { control: 'always', effect: 'no removal restriction is sent', user: 'the user' },
  record: null,
};

const record = (state: DeviceProfileRecord['state']): DeviceProfileRecord => ({
  ...{ enrollmentId: E1, identifier: WIFI, profileId: 'prf_1', version: 2, state },
  ...{ channel: 'admin', commandUuid: 'cmd-1', payloadUuid: 'uuid-2', updatedAt: AT },
});

/** A delivery service answering canned values and recording each call; `fail` makes it refuse. */
function fakeDelivery() {
  const calls: unknown[][] = [];
  let fail: ManagementError | undefined;
  const answer =
    <T>(name: string, value: T) =>
    (...args: unknown[]): Promise<T> => {
      calls.push([name, ...args]);
      return fail ? Promise.reject(fail) : Promise.resolve(value);
    };
  const service = {
    deviceProfiles: answer('deviceProfiles', VIEW),
    explain: answer('explain', TRACE),
    reconcile: answer('reconcile', { commandUuid: 'cmd-pl' }),
    install: answer('install', record('pending')),
    remove: answer('remove', record('removing')),
  } as unknown as DeliveryService;
  return { service, calls, refuse: (e: ManagementError) => (fail = e) };
}

let f: AdminsFixture;
let app: AdminApi;
let delivery: ReturnType<typeof fakeDelivery>;

beforeEach(async () => {
  f = await adminsFixture();
  delivery = fakeDelivery();
  app = createAdminApi({ ...f.deps, delivery: delivery.service });
});

const call = (key: string, method: string, path: string, body?: unknown) =>
  callApi(app, key, method, path, body);
const base = `/api/v1/enrollments/${E1}/profiles`;
const actions = async () => (await f.admin.listAudit({ limit: 10 })).items.map((e) => e.action);

describe("B1 a device's profiles through the admin API", () => {
  test('ok/the view and the explain trace are the delivery service answers', async () => {
    expect(await call(f.root.key, 'GET', base)).toEqual({ status: 200, body: VIEW });
    const explained = await call(f.root.key, 'GET', `${base}/${encodeURIComponent(WIFI)}/explain`);
    expect(explained).toEqual({ status: 200, body: TRACE });
    expect(delivery.calls).toEqual([
      ['deviceProfiles', E1],
      ['explain', E1, WIFI],
    ]);
    expect(await actions()).toEqual([]);
  });

  test('ok/reconcile answers 202 with the ProfileList queued, audited', async () => {
    const res = await call(f.root.key, 'POST', `${base}/reconcile`);
    expect(res).toEqual({ status: 202, body: { commandUuid: 'cmd-pl' } });
    expect(delivery.calls).toEqual([['reconcile', E1]]);
    expect(await actions()).toEqual(['enrollment.profiles.reconcile']);
  });

  test('ok/an administrator installs an Optional profile: 201 the pending record, audited', async () => {
    const res = await call(f.root.key, 'POST', base, { profileId: 'prf_1' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      ...{ enrollmentId: E1, identifier: WIFI, profileId: 'prf_1', version: 2 },
      ...{ payloadUuid: 'uuid-2', state: 'pending', reason: null, channel: 'admin' },
      ...{ commandUuid: 'cmd-1', installedAt: null, updatedAt: AT.toISOString() },
    });
    expect(delivery.calls).toEqual([['install', E1, 'prf_1', 'admin']]);
    expect(await actions()).toEqual(['enrollment.profile.install']);
  });

  test('ok/M6 removing a profile Orchard installed: 202 the removing record, audited', async () => {
    const res = await call(f.root.key, 'DELETE', `${base}/${WIFI}`);
    expect(res).toMatchObject({ status: 202, body: { state: 'removing', commandUuid: 'cmd-1' } });
    expect(delivery.calls).toEqual([['remove', E1, WIFI, 'admin']]);
    const [entry] = (await f.admin.listAudit({ limit: 1 })).items;
    expect(entry).toMatchObject({ action: 'enrollment.profile.remove', target: E1 });
  });

  test.each([
    ['ERR_ENROLLMENT_NOT_FOUND', 404, 'GET', base, undefined],
    ['ERR_ENROLLMENT_NOT_FOUND', 404, 'GET', `${base}/${WIFI}/explain`, undefined],
    ['ERR_DEVICE_NOT_ENROLLED', 409, 'POST', `${base}/reconcile`, undefined],
    ['ERR_PROFILE_NOT_OFFERED', 409, 'POST', base, { profileId: 'prf_9' }],
    ['ERR_PROFILE_INTERACTIVE', 409, 'POST', base, { profileId: 'prf_9' }],
    ['ERR_NOT_INSTALLED_BY_ORCHARD', 409, 'DELETE', `${base}/${WIFI}`, undefined],
    ['ERR_DEVICE_PROFILE_NOT_FOUND', 404, 'DELETE', `${base}/${WIFI}`, undefined],
  ] as const)(
    'fail/%s (%d) from the service answers as it is: %s %s',
    async (code, status, method, path, body) => {
      delivery.refuse(new ManagementError(code, 'refused by the fake'));
      const res = await call(f.root.key, method, path, body);
      expect(res).toEqual({ status, body: { code, message: 'refused by the fake' } });
      expect(await actions()).toEqual([]);
    },
  );

  test('fail/an administrator scoped below the root: 403 ERR_ADMIN_SCOPE, service untouched', async () => {
    for (const [method, path] of [
      ['GET', base],
      ['POST', `${base}/reconcile`],
    ] as const) {
      const res = await call(f.sales.key, method, path);
      expect(res).toMatchObject({ status: 403, body: { code: 'ERR_ADMIN_SCOPE', group: 'sales' } });
    }
    expect(delivery.calls).toEqual([]);
  });

  test('fail/a read-only administrator may read but not install', async () => {
    expect((await call(f.rootReader.key, 'GET', base)).status).toBe(200);
    const res = await call(f.rootReader.key, 'POST', base, { profileId: 'prf_1' });
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR_API_SCOPE' } });
    expect(delivery.calls).toEqual([['deviceProfiles', E1]]);
  });
});

describe('validation of the device profile routes (before the delivery service)', () => {
  test.each([
    ['fail/no body', 'POST', base, undefined, 'body'],
    ['fail/an empty body', 'POST', base, {}, 'profileId'],
    ['fail/a profileId that is a number', 'POST', base, { profileId: 7 }, 'profileId'],
    ['fail/a profileId with a space', 'POST', base, { profileId: 'a b' }, 'profileId'],
    ['fail/an unknown field', 'POST', base, { profileId: 'prf_1', channel: 'user' }, 'channel'],
    ['fail/a bad enrollment id', 'GET', '/api/v1/enrollments/a%20b/profiles', undefined, 'id'],
    ['fail/an identifier with a space', 'GET', `${base}/a%20b/explain`, undefined, 'identifier'],
    ['fail/an identifier with a tab', 'DELETE', `${base}/a%09b`, undefined, 'identifier'],
    ['fail/a body on reconcile', 'POST', `${base}/reconcile`, { now: true }, 'body'],
  ] as const)('%s', async (_name, method, path, body, field) => {
    const res = await call(f.root.key, method, path, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR_BAD_REQUEST', field });
    expect(delivery.calls).toEqual([]);
  });
});
