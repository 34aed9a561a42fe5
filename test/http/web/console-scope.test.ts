/**
 * Scope in the console (A4, A12, M13): an administrator of one branch gets the 404 page for a
 * device, user or group of another branch and sees its own; the audit log is for root-scoped
 * administrators only; a read-only administrator sees no write forms and its posts are refused.
 */
import { describe, expect, test } from '@jest/globals';
import { consoleWorld, type ConsoleWorld } from './console-fixture.js';

async function world(): Promise<ConsoleWorld & { users: { paris: string; texas: string } }> {
  const w = await consoleWorld();
  const paris = await w.deps.users.create({
    username: 'pierre',
    email: 'p@example.com',
    groupId: w.groups.france,
  });
  const texas = await w.deps.users.create({
    username: 'tex',
    email: 't@example.com',
    groupId: w.groups.us,
  });
  await w.enroll('dev-paris', { DeviceName: 'Pierre iPhone', SerialNumber: 'PARIS1' }, paris);
  await w.enroll('dev-texas', { DeviceName: 'Tex iPhone', SerialNumber: 'TEXAS1' }, texas);
  await w.enroll('dev-nobody', { DeviceName: 'Unowned' });
  return Object.assign(w, { users: { paris: paris.id, texas: texas.id } });
}

describe('another branch', () => {
  test('A12 fail/devices, users and groups outside the scope answer the 404 page', async () => {
    const w = await world();
    const europe = await w.session(w.admins.europe);
    for (const path of [
      '/console/devices/dev-texas',
      '/console/devices/dev-nobody',
      '/console/devices/dev-texas/profiles/com.example.x',
      '/console/devices/dev-texas/actions/lock',
      `/console/users/${w.users.texas}`,
      `/console/groups/${w.groups.us}`,
      `/console/groups/${w.groups.us}/settings/self-service`,
      '/console/devices/no-such-device',
      '/console/audit',
    ]) {
      const res = await w.get(path, europe);
      expect([path, res.status]).toEqual([path, 404]);
      expect(await res.text()).toContain('Not found');
    }
    const lock = await w.post('/console/devices/dev-texas/actions/lock', europe, {
      confirm: 'yes',
    });
    expect(lock.status).toBe(404);
    expect((await w.deps.core.listCommands('dev-texas', { limit: 10 })).items).toEqual([]);
  });

  test('A12 ok/its own devices, users and groups are shown; lists hold only them', async () => {
    const w = await world();
    const europe = await w.session(w.admins.europe);
    for (const path of [
      '/console/devices/dev-paris',
      `/console/users/${w.users.paris}`,
      `/console/groups/${w.groups.france}`,
    ])
      expect((await w.get(path, europe)).status).toBe(200);
    const devices = await (await w.get('/console/devices', europe)).text();
    expect(devices).toContain('Pierre iPhone');
    expect(devices).not.toContain('Tex iPhone');
    expect(devices).not.toContain('Unowned');
    const search = await (await w.get('/console/devices?q=iphone', europe)).text();
    expect(search).toContain('Pierre iPhone');
    expect(search).not.toContain('Tex iPhone');
    const users = await (await w.get('/console/users', europe)).text();
    expect(users).toContain('pierre');
    expect(users).not.toContain('tex@');
    const tree = await (await w.get('/console/groups', europe)).text();
    expect(tree).toContain('France');
    expect(tree).not.toContain('>US<');
    const root = await w.session(w.admins.root);
    const all = await (await w.get('/console/devices', root)).text();
    expect(['Pierre iPhone', 'Tex iPhone', 'Unowned'].every((n) => all.includes(n))).toBe(true);
  });

  test('ok/devices are found by name, serial, UDID, enrollment id and username', async () => {
    const w = await world();
    const root = await w.session(w.admins.root);
    for (const q of ['pierre iph', 'PARIS1', 'dev-paris', 'pierre']) {
      const text = await (await w.get(`/console/devices?q=${encodeURIComponent(q)}`, root)).text();
      expect([q, text.includes('data-testid="device-dev-paris"')]).toEqual([q, true]);
      expect(text.includes('data-testid="device-dev-texas"')).toBe(false);
    }
  });
  test("A12 ok/a device follows its owner's group when the user moves", async () => {
    const w = await world();
    await w.deps.users.update(w.users.texas, { groupId: w.groups.france });
    const europe = await w.session(w.admins.europe);
    expect((await w.get('/console/devices/dev-texas', europe)).status).toBe(200);
    expect(await (await w.get('/console/devices', europe)).text()).toContain('Tex iPhone');
    const us = await w.session(w.admins.us);
    expect((await w.get('/console/devices/dev-texas', us)).status).toBe(404);
  });
});

describe('read-only', () => {
  test('A4 fail/a read-only administrator sees no write forms and its posts are refused 403', async () => {
    const w = await world();
    const reader = await w.session(w.admins.reader);
    for (const path of [
      '/console/devices/dev-paris',
      `/console/users/${w.users.paris}`,
      '/console/users',
      `/console/groups/${w.groups.france}`,
      `/console/groups/${w.groups.france}/settings/self-service`,
      '/console/policies',
      '/console/profiles',
    ]) {
      const res = await w.get(path, reader);
      expect(res.status).toBe(200);
      const forms = (await res.text()).match(/<form[^>]*method="post"[^>]*>/g) ?? [];
      expect([path, forms]).toEqual([
        path,
        ['<form class="sign-out" method="post" action="/console/sign-out">'],
      ]);
    }
    const posts: [string, Record<string, string>][] = [
      ['/console/users', { username: 'eve', email: 'e@example.com', groupId: 'global' }],
      [`/console/groups/${w.groups.france}/settings/self-service`, { currentSetting: 'override' }],
      ['/console/devices/dev-paris/actions/lock', { confirm: 'yes' }],
      [`/console/users/${w.users.paris}/rotate`, {}],
    ];
    for (const [path, form] of posts)
      expect([path, (await w.post(path, reader, form)).status]).toEqual([path, 403]);
    expect(await w.admin.findUserByUsername('eve')).toBeUndefined();
  });
});
