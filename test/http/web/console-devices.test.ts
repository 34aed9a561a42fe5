/**
 * Devices in the console: one device's profiles by state with the explain trace in words (B1),
 * its commands with results, and actions behind a confirmation page (lock, erase, push, remove a
 * profile) audited as the admin API audits them; the dashboard's status cards.
 */
import { describe, expect, test } from '@jest/globals';
import { wifiXml } from '../../management/profile-fixtures.js';
import { consoleWorld, type ConsoleWorld } from './console-fixture.js';

const IPHONE = {
  DeviceName: 'Ann iPhone',
  ProductName: 'iPhone16,1',
  OSVersion: '17.4',
  SerialNumber: 'SER1',
};

async function withDevice(w: ConsoleWorld) {
  const policy = await w.deps.policies.create({ name: 'phones', groupId: 'global' });
  await w.deps.policies.setGroupPolicy('global', policy.id);
  const { profile } = await w.deps.profiles.upload({
    ...{
      groupId: 'global',
      content: wifiXml('com.example.wifi'),
      actor: 'test',
      name: 'Office Wi-Fi',
    },
  });
  await w.deps.policies.assign(policy.id, profile.id, { assignmentType: 'optional' });
  const user = await w.deps.users.create({
    username: 'ann',
    email: 'ann@example.com',
    groupId: w.groups.france,
  });
  await w.enroll('dev-1', IPHONE, user);
  return { policy, profile, user };
}

describe('one device', () => {
  test('B1 ok/profiles by state, each with its explain trace in words', async () => {
    const w = await consoleWorld();
    await withDevice(w);
    const root = await w.session(w.admins.root);
    const page = await (await w.get('/console/devices/dev-1', root)).text();
    expect(page).toMatch(/<h3>Offered<\/h3>[\s\S]*data-testid="profile-com.example.wifi"/);
    expect(page).toContain('href="/console/devices/dev-1/profiles/com.example.wifi"');
    expect(page).toMatch(/Effective policy: <a href="\/console\/policies\/[^"]+">phones<\/a>/);
    const trace = await (
      await w.get('/console/devices/dev-1/profiles/com.example.wifi', root)
    ).text();
    expect(trace).toMatch(/data-decision="offered"/);
    expect(trace).toContain('Compatibility');
    expect(trace).toMatch(/<th scope="row">platform<\/th><td>passes<\/td>/);
    expect(trace).toContain('the default policy of group global');
    expect(trace).toContain('Who may remove it');
  });

  test('ok/lock asks for confirmation, then queues DeviceLock, audited; the command is listed', async () => {
    const w = await consoleWorld();
    await withDevice(w);
    const root = await w.session(w.admins.root);
    const confirm = await (await w.get('/console/devices/dev-1/actions/lock', root)).text();
    expect(confirm).toContain('action="/console/devices/dev-1/actions/lock"');
    expect(confirm).toContain('name="confirm" value="yes"');
    const unconfirmed = await w.post('/console/devices/dev-1/actions/lock', root, {});
    expect(unconfirmed.status).toBe(303);
    expect((await w.deps.core.listCommands('dev-1', { limit: 10 })).items).toEqual([]);
    const done = await w.post('/console/devices/dev-1/actions/lock', root, { confirm: 'yes' });
    expect(done.headers.get('location')).toBe('/console/devices/dev-1?notice=queued');
    const commands = (await w.deps.core.listCommands('dev-1', { limit: 10 })).items;
    expect(commands.map((c) => c.requestType)).toEqual(['DeviceLock']);
    const audit = (await w.admin.listAudit({ limit: 1 })).items[0];
    expect(audit).toMatchObject({
      actor: `console:${w.admins.root}`,
      action: 'command.create',
      target: 'dev-1',
    });
    const page = await (await w.get('/console/devices/dev-1', root)).text();
    expect(page).toMatch(/<th scope="row">DeviceLock<\/th><td>queued<\/td>/);
  });

  test('fail/erase needs the device name typed; with it, EraseDevice is queued', async () => {
    const w = await consoleWorld();
    await withDevice(w);
    const root = await w.session(w.admins.root);
    const confirm = await (await w.get('/console/devices/dev-1/actions/erase', root)).text();
    expect(confirm).toContain('<label for="confirm-name">');
    const wrong = await w.post('/console/devices/dev-1/actions/erase', root, {
      confirm: 'yes',
      name: 'other',
    });
    expect(wrong.status).toBe(422);
    expect((await w.deps.core.listCommands('dev-1', { limit: 10 })).items).toEqual([]);
    const ok = await w.post('/console/devices/dev-1/actions/erase', root, {
      confirm: 'yes',
      name: 'Ann iPhone',
    });
    expect(ok.status).toBe(303);
    const commands = (await w.deps.core.listCommands('dev-1', { limit: 10 })).items;
    expect(commands.map((c) => c.requestType)).toEqual(['EraseDevice']);
  });

  test('ok/push now is audited with its outcome', async () => {
    const w = await consoleWorld();
    await withDevice(w);
    const root = await w.session(w.admins.root);
    const res = await w.post('/console/devices/dev-1/actions/push', root, { confirm: 'yes' });
    expect(res.headers.get('location')).toBe('/console/devices/dev-1?notice=pushed');
    expect((await w.admin.listAudit({ limit: 1 })).items[0]).toMatchObject({
      action: 'enrollment.push',
      target: 'dev-1',
    });
  });

  test("M6 fail/removing a profile Orchard did not install is refused 409 with the service's words", async () => {
    const w = await consoleWorld();
    await withDevice(w);
    const root = await w.session(w.admins.root);
    expect(
      (await w.get('/console/devices/dev-1/profiles/com.example.wifi/remove', root)).status,
    ).toBe(200);
    const res = await w.post('/console/devices/dev-1/profiles/com.example.wifi/remove', root, {
      confirm: 'yes',
    });
    expect(res.status).toBe(409);
    expect(await res.text()).toMatch(/role="alert">[^<]*install/i);
  });

  test('fail/an unknown action is the 404 page', async () => {
    const w = await consoleWorld();
    await withDevice(w);
    const root = await w.session(w.admins.root);
    expect((await w.get('/console/devices/dev-1/actions/format', root)).status).toBe(404);
  });
});

describe('dashboard', () => {
  test('ok/push, CA, storage and counts for a root administrator; counts only below it', async () => {
    const w = await consoleWorld();
    await withDevice(w);
    const root = await (await w.get('/console/', await w.session(w.admins.root))).text();
    for (const card of ['status-push', 'status-ca', 'status-storage', 'status-counts'])
      expect(root).toContain(`data-testid="${card}"`);
    expect(root).toContain('1 devices enrolled');
    expect(root).toContain('Storage answers.');
    const europe = await (await w.get('/console/', await w.session(w.admins.europe))).text();
    expect(europe).not.toContain('data-testid="status-push"');
    expect(europe).toContain('1 users');
    expect(europe).not.toContain('href="/console/audit"');
  });

  test('ok/the audit log is paginated, newest first', async () => {
    const w = await consoleWorld();
    for (let i = 0; i < 60; i++)
      await w.admin.audit({ actor: 'test', action: `action.${i}`, target: 't', detail: {} });
    const root = await w.session(w.admins.root);
    const first = await (await w.get('/console/audit', root)).text();
    expect(first).toContain('action.59');
    expect(first).not.toContain('action.9<');
    const next = /href="(\/console\/audit\?cursor=[^"]+)"/.exec(first)?.[1] ?? '';
    const second = await (await w.get(next.replace(/&amp;/g, '&'), root)).text();
    expect(second).toContain('action.0<');
    expect(second).not.toContain('action.59');
  });
});
