/**
 * Settings pages in the console (A1-A10, A13): Current Setting, Child Permission, effective
 * values and where they come from; under an Inherit-Only ancestor a page says which group locks
 * it and offers no form, and a forged POST is refused 409 with the service's message; invalid
 * values answer 422 with each issue; an applied write is audited; a group's default policy.
 */
import { describe, expect, test } from '@jest/globals';
import { consoleWorld } from './console-fixture.js';

describe('settings', () => {
  test('A4 fail/a child under an Inherit-Only ancestor is locked by it; a forged POST is 409', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const write = await w.post(
      `/console/groups/${w.groups.europe}/settings/profile-options`,
      root,
      {
        currentSetting: 'override',
        childPermission: 'inherit-only',
        interactiveEnabled: 'true',
      },
    );
    expect(write.status).toBe(303);
    expect(write.headers.get('location')).toBe(
      `/console/groups/${w.groups.europe}/settings/profile-options?notice=saved`,
    );
    const europe = await (await w.get(write.headers.get('location') ?? '', root)).text();
    expect(europe).toContain('Settings saved.');
    expect(europe).toMatch(/data-testid="current-setting">override</);
    const page = await w.get(`/console/groups/${w.groups.france}/settings/profile-options`, root);
    const text = await page.text();
    expect(text).toMatch(
      /data-testid="locked">This page is locked by <a href="\/console\/groups\/og_[0-9a-f]+">Europe<\/a>/,
    );
    expect(text).not.toContain(
      `action="/console/groups/${w.groups.france}/settings/profile-options"`,
    );
    expect(text).toMatch(/Values come from<\/th><td><a href="[^"]+">Europe</);
    const forged = await w.post(
      `/console/groups/${w.groups.france}/settings/profile-options`,
      root,
      {
        currentSetting: 'override',
        interactiveEnabled: 'false',
      },
    );
    expect(forged.status).toBe(409);
    const message = await forged.text();
    expect(message).toContain('role="alert"');
    expect(message).toContain(
      `is locked: Europe (${w.groups.europe}) allows its groups to inherit only`,
    );
    expect(await w.deps.groups.storedSettings(w.groups.france, 'profile-options')).toBeUndefined();
    const entries = (await w.admin.listAudit({ limit: 10 })).items;
    expect(entries.map((e) => [e.actor, e.action, e.target])).toEqual([
      [`console:${w.admins.root}`, 'group.settings.write', w.groups.europe],
    ]);
  });

  test('A6 ok/an override stored under a lock is shown as dormant, with the lock and no form', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const france = `/console/groups/${w.groups.france}/settings/self-service`;
    expect((await w.post(france, root, { currentSetting: 'override', erase: 'true' })).status).toBe(
      303,
    );
    const europe = `/console/groups/${w.groups.europe}/settings/self-service`;
    const lock = { currentSetting: 'override', childPermission: 'inherit-only', lock: 'true' };
    expect((await w.post(europe, root, lock)).status).toBe(303);
    const text = await (await w.get(france, root)).text();
    expect(text).toContain('Stored here (dormant while the lock holds)');
    expect(text).toMatch(/<th scope="row">erase<\/th><td>true<\/td>/);
    expect(text).toContain('data-testid="locked"');
    expect(text).not.toContain(`action="${france}"`);
  });

  test('fail/a form body past 64 KiB answers 413 and changes nothing', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const res = await w.post('/console/users', root, {
      username: 'big',
      email: 'big@example.com',
      groupId: 'global',
      firstName: 'x'.repeat(70 * 1024),
    });
    expect(res.status).toBe(413);
    expect(await w.admin.findUserByUsername('big')).toBeUndefined();
  });

  test('A3 ok/the group page lists each settings page with its mode and source', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const text = await (await w.get(`/console/groups/${w.groups.france}`, root)).text();
    for (const title of ['Profile options', 'Enrollment', 'Self-service'])
      expect(text).toContain(title);
    expect(text).toContain('France');
  });

  test('fail/invalid values answer 422 with the issue; nothing is stored', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const res = await w.post(`/console/groups/${w.groups.us}/settings/enrollment`, root, {
      currentSetting: 'override',
      linkLifetimeSeconds: '60',
      allowedEnrollmentTypes: ['device'],
      genericLinkPrefix: 'phone',
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('24 hours');
    expect(await w.deps.groups.storedSettings(w.groups.us, 'enrollment')).toBeUndefined();
  });

  test('ok/Override then Inherit stores values, then deletes the override', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const path = `/console/groups/${w.groups.us}/settings/enrollment`;
    const res = await w.post(path, root, {
      currentSetting: 'override',
      childPermission: 'override-only',
      linkLifetimeSeconds: '172800',
      allowedEnrollmentTypes: ['device', 'ade'],
      genericLinkPrefix: 'phone',
      identity: 'scep',
    });
    expect(res.status).toBe(303);
    const stored = await w.deps.groups.storedSettings(w.groups.us, 'enrollment');
    expect(stored?.values).toEqual({
      linkLifetimeSeconds: 172800,
      allowedEnrollmentTypes: ['device', 'ade'],
      genericLinkPrefix: 'phone',
      identity: 'scep',
    });
    expect(stored?.childPermission).toBe('override-only');
    expect((await w.post(path, root, { currentSetting: 'inherit' })).status).toBe(303);
    expect(await w.deps.groups.storedSettings(w.groups.us, 'enrollment')).toBeUndefined();
  });

  test("A12 fail/an administrator may not write an ancestor's page (403), nor see another branch (404)", async () => {
    const w = await consoleWorld();
    const europe = await w.session(w.admins.europe);
    const global = await w.get('/console/groups/global/settings/self-service', europe);
    expect(global.status).toBe(200);
    expect(await global.text()).not.toContain(
      'action="/console/groups/global/settings/self-service"',
    );
    const post = await w.post('/console/groups/global/settings/self-service', europe, {
      currentSetting: 'override',
    });
    expect(post.status).toBe(403);
    const us = await w.post(`/console/groups/${w.groups.us}/settings/self-service`, europe, {
      currentSetting: 'override',
    });
    expect(us.status).toBe(404);
  });
});

describe('default policy', () => {
  test("ok/a group's default policy is set from its page and shown below it", async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const policy = await w.deps.policies.create({ name: 'phones', groupId: 'global' });
    const res = await w.post(`/console/groups/${w.groups.europe}/policy`, root, {
      policyId: policy.id,
    });
    expect(res.status).toBe(303);
    expect(await w.admin.listGroupPolicies()).toEqual(new Map([[w.groups.europe, policy.id]]));
    const france = await (await w.get(`/console/groups/${w.groups.france}`, root)).text();
    expect(france).toMatch(
      /get <a href="\/console\/policies\/[^"]+">phones<\/a> \(from <a[^>]+>Europe<\/a>\)/,
    );
  });
});
