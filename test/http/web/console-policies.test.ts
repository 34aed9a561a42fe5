/**
 * Policies and the profile library in the console (M5, A13, S8): uploading a `.mobileconfig`
 * (its compatibility and removal rules shown), an invalid upload's 422 issues, creating a policy,
 * assigning a profile as Interactive (422 where Profile Options does not allow it, then allowed),
 * and unassigning it, each applied change reported in words and audited.
 */
import { describe, expect, test } from '@jest/globals';
import { wifiXml } from '../../management/profile-fixtures.js';
import { consoleWorld } from './console-fixture.js';

describe('profile library', () => {
  test('ok/an upload leads to the profile with its compatibility and removal rules', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const res = await w.upload(
      '/console/profiles',
      root,
      {
        field: 'mobileconfig',
        name: 'wifi.mobileconfig',
        type: 'application/x-apple-aspen-config',
        bytes: wifiXml('com.example.up'),
      },
      { groupId: w.groups.europe, assignmentType: 'optional', name: 'Office Wi-Fi' },
    );
    expect(res.status).toBe(303);
    const stored = await w.admin.findLibraryProfileByIdentifier('com.example.up');
    expect(stored).toMatchObject({
      groupId: w.groups.europe,
      assignmentType: 'optional',
      name: 'Office Wi-Fi',
    });
    const page = await (await w.get(res.headers.get('location') ?? '', root)).text();
    expect(page).toContain('Profile uploaded.');
    expect(page).toMatch(/<h2>Compatibility<\/h2>[\s\S]*<th scope="row">iOS<\/th>/);
    expect(page).toMatch(/<h2>Removal rules<\/h2>[\s\S]*user\/iphone-device-enrollment/);
    expect((await w.admin.listAudit({ limit: 1 })).items[0]).toMatchObject({
      action: 'profile.create',
    });
  });

  test('fail/a file that is no profile answers 422 with the reason; nothing stored', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const res = await w.upload(
      '/console/profiles',
      root,
      { field: 'mobileconfig', name: 'x.mobileconfig', type: 'text/plain', bytes: 'not a plist' },
      { groupId: 'global' },
    );
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('role="alert"');
    expect((await w.deps.profiles.list({ limit: 10 })).items).toEqual([]);
  });
});

describe('policies', () => {
  test('A13 fail/Interactive is refused 422 where Profile Options disallows it, then assigned once allowed', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const created = await w.post('/console/policies', root, {
      name: 'lab',
      groupId: w.groups.europe,
    });
    expect(created.status).toBe(303);
    const policy = await w.admin.findPolicyByName('lab');
    const { profile } = await w.deps.profiles.upload({
      groupId: w.groups.europe,
      content: wifiXml('com.example.vpn'),
      actor: 't',
    });
    const path = `/console/policies/${policy?.id ?? ''}`;
    const page = await (await w.get(path, root)).text();
    expect(page).toMatch(/<select id="a-assignmentType" name="assignmentType">/);
    expect(page).toContain("Interactive is off for this policy's group");
    const form = { profileId: profile.id, assignmentType: 'interactive', removal: 'always' };
    const refused = await w.post(`${path}/profiles`, root, form);
    expect(refused.status).toBe(422);
    expect(await refused.text()).toMatch(/nteractive/);
    expect(await w.deps.policies.assignments(policy?.id ?? '')).toEqual([]);
    await w.deps.groups.writeSettings(w.groups.europe, 'profile-options', {
      currentSetting: 'override',
      values: { interactiveEnabled: true },
    });
    expect(await (await w.get(path, root)).text()).toContain('Interactive is allowed here');
    const assigned = await w.post(`${path}/profiles`, root, form);
    expect(assigned.status).toBe(200);
    expect(await assigned.text()).toMatch(/data-testid="report">0 devices reached/);
    expect(
      (await w.deps.policies.assignments(policy?.id ?? '')).map((a) => a.assignmentType),
    ).toEqual(['interactive']);
    const shown = await (await w.get(path, root)).text();
    expect(shown).toMatch(
      /data-testid="assignment-[^"]+">[\s\S]*<td>interactive<\/td><td>always<\/td>/,
    );
    const removed = await w.post(`${path}/profiles/${profile.id}/unassign`, root, {});
    expect(removed.status).toBe(200);
    expect(await w.deps.policies.assignments(policy?.id ?? '')).toEqual([]);
    const actions = (await w.admin.listAudit({ limit: 10 })).items.map((e) => e.action);
    expect(actions.slice(0, 3)).toEqual(['policy.unassign', 'policy.assign', 'policy.create']);
  });

  test("A12 fail/an administrator of another branch gets 404 for a branch's policy and profile", async () => {
    const w = await consoleWorld();
    const policy = await w.deps.policies.create({ name: 'us-phones', groupId: w.groups.us });
    const { profile } = await w.deps.profiles.upload({
      groupId: w.groups.us,
      content: wifiXml('com.example.us'),
      actor: 't',
    });
    const europe = await w.session(w.admins.europe);
    expect((await w.get(`/console/policies/${policy.id}`, europe)).status).toBe(404);
    expect((await w.get(`/console/profiles/${profile.id}`, europe)).status).toBe(404);
    const list = await (await w.get('/console/policies', europe)).text();
    expect(list).not.toContain('us-phones');
  });
});
