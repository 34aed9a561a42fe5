/**
 * The enrollment-link routes: a user's personal link and its QR codes (PNG decoding back to the
 * link, SVG), rotation and sending, each seen only within the caller's scope; a group's generic
 * links made, listed, shown as QR codes and revoked; every change audited.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { hashApiKey } from '../../../src/admin/api-keys.js';
import { createAdminApi, type AdminApi } from '../../../src/http/admin/index.js';
import { createUserLinks } from '../../../src/management/user-links.js';
import type { MailMessage } from '../../../src/mail/ports.js';
import type { UserRecord } from '../../../src/storage/ports.js';
import { decodeQrPng } from '../../support/mail.js';
import { adminsFixture, type AdminsFixture } from './admins-fixture.js';
import { callApi } from './support.js';

const NOW = new Date('2026-12-07T02:00:00Z');
const BASE = 'https://mdm.example.com';

interface World {
  f: AdminsFixture;
  app: AdminApi;
  sent: MailMessage[];
  call: AdminsFixture['call'];
  user(groupId: string, policy?: string): Promise<UserRecord>;
}

async function world(): Promise<World> {
  const f = await adminsFixture();
  let n = 0;
  const sent: MailMessage[] = [];
  const userLinks = createUserLinks({
    ...{ store: f.admin, groups: f.deps.groups, clock: () => NOW, publicUrl: () => BASE },
    mint: () => {
      n += 1;
      const secret = createHash('sha256').update(`s${n}`).digest().toString('base64url');
      return { secret, hash: hashApiKey(secret) };
    },
    mailer: {
      send: (m) => {
        sent.push(m);
        return Promise.resolve();
      },
    },
  });
  const app = createAdminApi({ ...f.deps, userLinks });
  for (const [name, groupId] of [
    ['standard', 'global'],
    ['kiosk', 'sales'],
    ['engonly', 'eng'],
  ] as const)
    await f.admin.createPolicy({
      id: `pol_${name}`,
      name,
      groupId,
      createdAt: NOW,
      updatedAt: NOW,
    });
  let u = 0;
  return {
    ...{ f, app, sent },
    call: (key, method, path, body) => callApi(app, key, method, path, body),
    async user(groupId, policy = 'pol_standard') {
      u += 1;
      const user = await f.admin.createUser({
        ...{ username: `u${u}`, email: `u${u}@example.com`, groupId },
        ...(policy === '' ? {} : { policy }),
      });
      if (user === undefined) throw new Error('taken');
      return user;
    },
  };
}

async function image(w: World, key: string, path: string) {
  const res = await w.app.request(path, { headers: { authorization: `Bearer ${key}` } });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: new Uint8Array(await res.arrayBuffer()),
  };
}

let w: World;
beforeEach(async () => {
  w = await world();
});

describe('personal links', () => {
  test('ok/the link is made once and its QR codes carry it', async () => {
    const user = await w.user('sales');
    const path = `/api/v1/users/${user.id}/enrollment-link`;
    const first = await w.call(w.f.sales.readKey, 'GET', path);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ kind: 'personal', status: 'created', state: 'active' });
    expect((await w.call(w.f.root.key, 'GET', path)).body.url).toBe(first.body.url);
    const png = await image(w, w.f.sales.readKey, `${path}/qr.png`);
    expect(png).toMatchObject({ status: 200, type: 'image/png' });
    expect(decodeQrPng(png.body)).toBe(first.body.url);
    const svg = await image(w, w.f.sales.readKey, `${path}/qr.svg`);
    expect(svg.type).toMatch(/^image\/svg\+xml/);
    expect(Buffer.from(svg.body).toString('utf8')).toContain('<svg');
  });

  test('fail/409 ERR_USER_NO_POLICY while the user has no policy', async () => {
    const user = await w.user('sales', '');
    const res = await w.call(w.f.sales.key, 'GET', `/api/v1/users/${user.id}/enrollment-link`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('ERR_USER_NO_POLICY');
  });

  test('ok/a user without a policy of their own gets a link from a group default', async () => {
    const user = await w.user('east', '');
    await w.f.admin.setGroupPolicy('sales', 'pol_kiosk');
    const res = await w.call(w.f.sales.key, 'GET', `/api/v1/users/${user.id}/enrollment-link`);
    expect(res).toMatchObject({ status: 200, body: { kind: 'personal', policy: null } });
  });

  test.each([
    ['fail/a sibling group', 'eng'],
    ['fail/an ancestor (people do not flow down)', 'global'],
  ])('%s: 404 ERR_USER_NOT_FOUND', async (_name, groupId) => {
    const user = await w.user(groupId);
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/qr.png'],
      ['POST', '/rotate'],
    ]) {
      const res = await w.call(
        w.f.sales.key,
        method ?? 'GET',
        `/api/v1/users/${user.id}/enrollment-link${suffix ?? ''}`,
      );
      expect(res).toMatchObject({ status: 404, body: { code: 'ERR_USER_NOT_FOUND' } });
    }
  });

  test('ok/rotate gives a new link, audited; the old one is marked rotated', async () => {
    const user = await w.user('east');
    const path = `/api/v1/users/${user.id}/enrollment-link`;
    const old = (await w.call(w.f.sales.key, 'GET', path)).body.url as string;
    const res = await w.call(w.f.sales.key, 'POST', `${path}/rotate`);
    expect(res.status).toBe(200);
    expect(res.body.url).not.toBe(old);
    const stored = await w.f.admin.findEnrollmentTokenByHash(
      hashApiKey(old.split('/').pop() ?? ''),
    );
    expect(stored?.rotatedAt).toBeDefined();
    const audit = await w.f.admin.listAudit({ limit: 10 });
    expect(audit.items.map((e) => e.action)).toContain('user.enrollment-link.rotate');
  });

  test('fail/a read key cannot rotate or send: 403', async () => {
    const user = await w.user('sales');
    for (const action of ['rotate', 'send']) {
      const res = await w.call(
        w.f.sales.readKey,
        'POST',
        `/api/v1/users/${user.id}/enrollment-link/${action}`,
      );
      expect(res.status).toBe(403);
    }
  });

  test('ok/send mails the same link and marks it sent', async () => {
    const user = await w.user('sales');
    const path = `/api/v1/users/${user.id}/enrollment-link`;
    const url = (await w.call(w.f.sales.key, 'GET', path)).body.url;
    const res = await w.call(w.f.sales.key, 'POST', `${path}/send`);
    expect(res).toMatchObject({ status: 200, body: { sent: true, link: { url, status: 'sent' } } });
    expect(w.sent.map((m) => m.to)).toEqual([user.email]);
  });
});

describe('generic links', () => {
  test('ok/made, listed, shown as a QR code and revoked', async () => {
    const made = await w.call(w.f.sales.key, 'POST', '/api/v1/groups/sales/enrollment-links', {
      policy: 'kiosk',
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      kind: 'generic',
      groupId: 'sales',
      policy: 'kiosk',
      policyId: 'pol_kiosk',
    });
    expect((await w.f.admin.findEnrollmentToken(made.body.id as string))?.policy).toBe('pol_kiosk');
    const id = made.body.id as string;
    const list = await w.call(w.f.sales.readKey, 'GET', '/api/v1/groups/sales/enrollment-links');
    expect((list.body.items as { id: string }[]).map((l) => l.id)).toEqual([id]);
    const png = await image(
      w,
      w.f.sales.readKey,
      `/api/v1/groups/sales/enrollment-links/${id}/qr.png`,
    );
    expect(decodeQrPng(png.body)).toBe(made.body.url);
    const wrong = await w.call(w.f.root.key, 'DELETE', `/api/v1/groups/eng/enrollment-links/${id}`);
    expect(wrong).toMatchObject({ status: 404, body: { code: 'ERR_LINK_NOT_FOUND' } });
    const revoked = await w.call(
      w.f.sales.key,
      'DELETE',
      `/api/v1/groups/sales/enrollment-links/${id}`,
    );
    expect(revoked.status).toBe(200);
    const audit = await w.f.admin.listAudit({ limit: 10 });
    expect(audit.items.map((e) => e.action)).toEqual(
      expect.arrayContaining(['group.enrollment-link.create', 'group.enrollment-link.revoke']),
    );
  });

  test.each([
    ['an unknown policy', 'gold'],
    ['a policy owned out of sight', 'pol_engonly'],
  ])('fail/%s: 422 ERR_POLICY_UNKNOWN, no link made', async (_name, policy) => {
    const res = await w.call(w.f.sales.key, 'POST', '/api/v1/groups/sales/enrollment-links', {
      policy,
    });
    expect(res).toMatchObject({ status: 422, body: { code: 'ERR_POLICY_UNKNOWN' } });
    const list = await w.call(w.f.sales.key, 'GET', '/api/v1/groups/sales/enrollment-links');
    expect(list.body.items).toEqual([]);
  });

  test.each([
    ['fail/an ancestor group: 403 ERR_ADMIN_SCOPE', 'global', 403, 'ERR_ADMIN_SCOPE'],
    ['fail/a sibling group: 404 ERR_GROUP_NOT_FOUND', 'eng', 404, 'ERR_GROUP_NOT_FOUND'],
  ])('%s', async (_name, groupId, status, code) => {
    for (const method of ['GET', 'POST']) {
      const res = await w.call(
        w.f.sales.key,
        method,
        `/api/v1/groups/${groupId}/enrollment-links`,
        method === 'POST' ? {} : undefined,
      );
      expect(res).toMatchObject({ status, body: { code } });
    }
  });

  test('fail/a lifetime under 24 hours is refused before the handler', async () => {
    const res = await w.call(w.f.sales.key, 'POST', '/api/v1/groups/sales/enrollment-links', {
      expiresInSeconds: 3600,
    });
    expect(res.status).toBe(400);
  });
});
