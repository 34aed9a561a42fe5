/**
 * Escaping (SECURITY.md's XSS row): a device named `<script>alert(1)</script>` and a user whose
 * name is `<img src=x onerror=alert(1)>` appear as escaped text on every console page that shows
 * them (lists, search, device, explain trace, actions, user); no page carries either as markup.
 */
import { expect, test } from '@jest/globals';
import { wifiXml } from '../../management/profile-fixtures.js';
import { consoleWorld } from './console-fixture.js';

const SCRIPT = '<script>alert(1)</script>';
const IMG = '<img src=x onerror=alert(1)>';
const escaped = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

test('XSS ok/device and user names are escaped on every page that shows them', async () => {
  const w = await consoleWorld();
  const root = await w.session(w.admins.root);
  const policy = await w.deps.policies.create({ name: 'phones', groupId: 'global' });
  await w.deps.policies.setGroupPolicy('global', policy.id);
  const { profile } = await w.deps.profiles.upload({
    ...{ groupId: 'global', content: wifiXml('com.example.wifi'), actor: 'test' },
    name: SCRIPT,
  });
  await w.deps.policies.assign(policy.id, profile.id, { assignmentType: 'auto' });
  const user = await w.deps.users.create({
    ...{ username: 'mallory', email: 'm@example.com', groupId: w.groups.france },
    ...{ firstName: IMG, lastName: SCRIPT },
  });
  await w.enroll('dev-x', { DeviceName: SCRIPT, SerialNumber: 'XSS1', ProductName: IMG }, user);
  const pages = [
    '/console/devices',
    '/console/devices?q=XSS1',
    `/console/devices?q=${encodeURIComponent(SCRIPT)}`,
    '/console/devices/dev-x',
    '/console/devices/dev-x/profiles/com.example.wifi',
    '/console/devices/dev-x/actions/erase',
    '/console/users',
    `/console/users/${user.id}`,
    '/console/profiles',
    `/console/profiles/${profile.id}`,
    `/console/policies/${policy.id}`,
  ];
  for (const path of pages) {
    const res = await w.get(path, root);
    expect([path, res.status]).toEqual([path, 200]);
    const html = await res.text();
    const shown = [SCRIPT, IMG].filter((s) => html.includes(escaped(s)));
    expect([path, shown.length > 0]).toEqual([path, true]);
    expect([path, html.includes(SCRIPT), html.includes(IMG)]).toEqual([path, false, false]);
    expect([path, /<script\b/i.test(html), /<img[^>]*onerror/i.test(html)]).toEqual([
      path,
      false,
      false,
    ]);
  }
});
