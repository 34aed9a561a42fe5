/**
 * Accessibility basics of the console's pages: `lang="en"`, one `<h1>`, headings that never skip
 * a level, every visible input and select with a `<label for>` naming it, and every table
 * header with a `scope`.
 */
import { expect, test } from '@jest/globals';
import { wifiXml } from '../../management/profile-fixtures.js';
import { consoleWorld } from './console-fixture.js';

function problems(html: string): string[] {
  const found: string[] = [];
  if (!html.includes('<html lang="en">')) found.push('no lang="en"');
  if ((html.match(/<h1[\s>]/g) ?? []).length !== 1) found.push('not exactly one h1');
  let level = 0;
  for (const m of html.matchAll(/<h([1-6])[\s>]/g)) {
    const next = Number(m[1]);
    if (next > level + 1) found.push(`h${next} after h${level}`);
    level = next;
  }
  const labels = new Set([...html.matchAll(/<label for="([^"]+)"/g)].map((m) => m[1]));
  for (const m of html.matchAll(/<(input|select)\b[^>]*>/g)) {
    if (/type="hidden"/.test(m[0])) continue;
    const id = /\sid="([^"]+)"/.exec(m[0])?.[1];
    if (id === undefined || !labels.has(id)) found.push(`unlabelled ${m[0]}`);
  }
  for (const m of html.matchAll(/<th\b[^>]*>/g))
    if (!/scope="(row|col)"/.test(m[0])) found.push(`th without scope: ${m[0]}`);
  return found;
}

test('ok/console pages have labels, ordered headings and scoped table headers', async () => {
  const w = await consoleWorld();
  const root = await w.session(w.admins.root);
  const policy = await w.deps.policies.create({ name: 'phones', groupId: 'global' });
  await w.deps.policies.setGroupPolicy('global', policy.id);
  const { profile } = await w.deps.profiles.upload({
    groupId: 'global',
    content: wifiXml('com.example.wifi'),
    actor: 't',
  });
  await w.deps.policies.assign(policy.id, profile.id, { assignmentType: 'optional' });
  const user = await w.deps.users.create({
    username: 'ann',
    email: 'ann@example.com',
    groupId: w.groups.france,
  });
  await w.enroll(
    'dev-1',
    { DeviceName: 'Ann iPhone', ProductName: 'iPhone16,1', OSVersion: '17.4' },
    user,
  );
  const pages = [
    '/console/',
    '/console/devices',
    '/console/devices?q=ann',
    '/console/devices/dev-1',
    '/console/devices/dev-1/profiles/com.example.wifi',
    '/console/devices/dev-1/actions/erase',
    '/console/groups',
    `/console/groups/${w.groups.europe}`,
    `/console/groups/${w.groups.europe}/settings/enrollment`,
    `/console/groups/${w.groups.europe}/settings/self-service`,
    '/console/users',
    '/console/users/import',
    `/console/users/${user.id}`,
    '/console/policies',
    `/console/policies/${policy.id}`,
    '/console/profiles',
    `/console/profiles/${profile.id}`,
    '/console/audit',
  ];
  for (const path of pages) {
    const res = await w.get(path, root);
    expect([path, res.status, problems(await res.text())]).toEqual([path, 200, []]);
  }
  const signIn = await (await w.get('/console/sign-in', { cookie: '' })).text();
  expect(problems(signIn)).toEqual([]);
});

test('fail/the checker finds a skipped heading, an unlabelled input and an unscoped header', () => {
  const planted = '<html lang="en"><h1>x</h1><h3>y</h3><input id="a" name="a"><th>z</th>';
  expect(problems(planted)).toEqual([
    'h3 after h1',
    'unlabelled <input id="a" name="a">',
    'th without scope: <th>',
  ]);
});
