/**
 * Users in the console (M9): adding one, the CSV import with its per-row report (multipart
 * upload), a user's page with the QR code of their personal link (an SVG `data:` image) and the
 * link itself, rotating it (the old URL gone), and sending it without a mailer (the reason shown).
 */
import { describe, expect, test } from '@jest/globals';
import { consoleWorld, type ConsoleWorld } from './console-fixture.js';

const CSV = [
  'username,email,first_name,last_name',
  'alice,alice@example.com,Alice,Liddell',
  'carol,not-an-address,Carol,',
  'bob,bob@example.com,Bob,',
].join('\r\n');

async function withPolicy(w: ConsoleWorld): Promise<string> {
  const policy = await w.deps.policies.create({ name: 'phones', groupId: 'global' });
  await w.deps.policies.setGroupPolicy('global', policy.id);
  return policy.id;
}

describe('users', () => {
  test('M9 ok/the CSV import shows the per-row report and stores the valid rows', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const res = await w.upload(
      '/console/users/import',
      root,
      { field: 'csv', name: 'users.csv', type: 'text/csv', bytes: `${CSV}\r\n` },
      { groupId: w.groups.europe },
    );
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('2 created, 0 updated, 0 unchanged, 1 refused.');
    const rows = text.match(/<tr data-outcome="[a-z]+">[\s\S]*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/data-outcome="created"[\s\S]*alice/);
    expect(rows[1]).toMatch(/data-outcome="refused"[\s\S]*carol[\s\S]*e-?mail/i);
    expect(rows[2]).toMatch(/data-outcome="created"[\s\S]*bob/);
    expect((await w.admin.findUserByUsername('alice'))?.groupId).toBe(w.groups.europe);
    expect(await w.admin.findUserByUsername('carol')).toBeUndefined();
    const audit = (await w.admin.listAudit({ limit: 5 })).items[0];
    expect(audit).toMatchObject({ action: 'user.import', target: w.groups.europe });
    expect(audit?.detail).toMatchObject({ created: 2, refused: 1, applied: true });
  });

  test('M9 ok/an atomic import with a refused row stores nothing and says so', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const res = await w.upload(
      '/console/users/import',
      root,
      { field: 'csv', name: 'users.csv', type: 'text/csv', bytes: CSV },
      { atomic: 'true' },
    );
    expect(await res.text()).toContain('Nothing was stored');
    expect(await w.admin.findUserByUsername('alice')).toBeUndefined();
  });

  test('ok/adding a user leads to their page; a taken username is 409 with the message', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const form = { username: 'dora', email: 'dora@example.com', groupId: w.groups.us };
    const res = await w.post('/console/users', root, form);
    expect(res.status).toBe(303);
    const dora = await w.admin.findUserByUsername('dora');
    expect(res.headers.get('location')).toBe(`/console/users/${dora?.id ?? ''}?notice=created`);
    const again = await w.post('/console/users', root, form);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('dora');
  });

  test("M9 ok/a user's page shows the QR code and link; rotate replaces the link", async () => {
    const w = await consoleWorld();
    await withPolicy(w);
    const root = await w.session(w.admins.root);
    const ann = await w.deps.users.create({
      username: 'ann',
      email: 'ann@example.com',
      groupId: w.groups.france,
    });
    const before = (await w.deps.userLinks.personal(ann.id)).url;
    const text = await (await w.get(`/console/users/${ann.id}`, root)).text();
    expect(text).toContain(before);
    const src = /<img class="qr" src="(data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+)"/.exec(
      text,
    )?.[1];
    const svg = Buffer.from(src?.split(',')[1] ?? '', 'base64').toString('utf8');
    expect(svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const rotated = await w.post(`/console/users/${ann.id}/rotate`, root, {});
    expect(rotated.status).toBe(303);
    const after = (await w.deps.userLinks.personal(ann.id)).url;
    expect(after).not.toBe(before);
    const page = await (await w.get(rotated.headers.get('location') ?? '', root)).text();
    expect(page).toContain(after);
    expect(page).not.toContain(before);
    expect(page).toContain('the old link no longer works');
  });

  test('fail/send without a mailer and a user without a policy show the reason', async () => {
    const w = await consoleWorld();
    const root = await w.session(w.admins.root);
    const ann = await w.deps.users.create({
      username: 'ann',
      email: 'ann@example.com',
      groupId: w.groups.france,
    });
    const page = await (await w.get(`/console/users/${ann.id}`, root)).text();
    expect(page).toMatch(/role="alert">[^<]*polic/i);
    await withPolicy(w);
    const sent = await w.post(`/console/users/${ann.id}/send`, root, {});
    expect(sent.status).toBe(503);
    expect(await sent.text()).toMatch(/mail/i);
  });
});
