/**
 * Issue 17 end to end, on a real daemon in this process with simulated devices and a local SMTP
 * server: users imported from CSV (created, updated and refused rows), a user's QR code decoded
 * back to the link, the invitation mail received with the link and its QR image, a device
 * enrolled through the link and owned by the user, the link rotated (the old one answers 410),
 * and a group's generic link enrolling two devices as `kiosk-1` and `kiosk-2` (M9, M10).
 * The steps run in order and build on each other.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createKeyPool, createSimDevice, type SimKeyPool } from '../../src/sim/index.js';
import { startHarness, type Harness } from '../daemon/harness.js';
import { decodeQrPng, startMailSink, type MailSink } from '../support/mail.js';

let h: Harness;
let mail: MailSink;
let keys: SimKeyPool;

beforeAll(async () => {
  [mail, keys] = await Promise.all([startMailSink(), createKeyPool(1)]);
  h = await startHarness({ smtpUrl: mail.url, smtpFrom: 'it@example.com' });
  // Users and links name policies that exist (by name here; ids work as well).
  for (const name of ['standard', 'kiosk-policy']) {
    const made = await h.api('POST', '/api/v1/policies', { name, groupId: 'global' });
    expect(made.status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await h.close();
  await mail.close();
});

/** The bytes of an admin API answer (QR images are binary). */
async function bytes(path: string): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await fetch(new URL(path, h.daemon.url), {
    headers: { authorization: `Bearer ${h.apiKey}` },
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/** A simulated iPhone enrolled through `url`. */
async function enrollThrough(url: string) {
  const device = createSimDevice({ platform: 'iOS', osVersion: '18.1', keys });
  await device.enroll({ url });
  return device;
}

const CSV = [
  'username,email,first_name,last_name,policy',
  'alice,alice@example.com,Alice,Liddell,standard',
  'bob,bob@new.example.com,Bob,Builder,standard',
  'carol,not-an-address,Carol,,standard',
].join('\r\n');

const state: Partial<Record<'alice' | 'bob' | 'link' | 'udid', string | undefined>> = {};

describe('users, personal links and mail', () => {
  test('ok/imports users from CSV: one created, one updated, one refused', async () => {
    const bob = await h.api('POST', '/api/v1/users', {
      username: 'bob',
      email: 'bob@old.example.com',
      groupId: 'global',
    });
    expect(bob.status).toBe(201);
    state.bob = bob.body.id as string;
    const res = await h.raw(
      'POST',
      '/api/v1/users/import',
      { authorization: `Bearer ${h.apiKey}`, 'content-type': 'text/csv' },
      Buffer.from(`\uFEFF${CSV}\r\n`),
    );
    expect(res.status).toBe(200);
    const report = JSON.parse(res.body) as {
      created: number;
      updated: number;
      refused: number;
      rows: { username: string; outcome: string; reason?: string; userId?: string }[];
    };
    expect(report).toMatchObject({ created: 1, updated: 1, refused: 1 });
    expect(report.rows.map((r) => [r.username, r.outcome])).toEqual([
      ['alice', 'created'],
      ['bob', 'updated'],
      ['carol', 'refused'],
    ]);
    expect(report.rows[2]?.reason).toMatch(/email/i);
    state.alice = report.rows[0]?.userId;
    const updated = await h.api('GET', `/api/v1/users/${state.bob}`);
    expect(updated.body).toMatchObject({ email: 'bob@new.example.com', policy: 'standard' });
  });

  test("ok/the QR code of a user's link decodes back to the link", async () => {
    const link = await h.api('GET', `/api/v1/users/${state.alice}/enrollment-link`);
    expect(link.status).toBe(200);
    expect(link.body).toMatchObject({ kind: 'personal', state: 'active', userId: state.alice });
    state.link = link.body.url as string;
    const png = await bytes(`/api/v1/users/${state.alice}/enrollment-link/qr.png`);
    expect(png).toMatchObject({ status: 200, type: 'image/png' });
    expect(decodeQrPng(png.body)).toBe(state.link);
  });

  test('ok/the invitation mail carries the same link and its QR code', async () => {
    const sent = await h.api('POST', `/api/v1/users/${state.alice}/enrollment-link/send`);
    expect(sent.status).toBe(200);
    expect(sent.body.link).toMatchObject({ url: state.link, status: 'sent' });
    const message = await mail.next(1);
    expect(message.to).toEqual(['alice@example.com']);
    const texts = message.parts
      .filter((p) => /^text\//.test(p.headers['content-type'] ?? ''))
      .map((p) => p.body.toString('utf8'));
    expect(texts.length).toBeGreaterThan(0);
    for (const text of texts) expect(text).toContain(state.link);
    const images = message.parts.filter((p) => /^image\/png/.test(p.headers['content-type'] ?? ''));
    expect(images.map((p) => decodeQrPng(p.body))).toContain(state.link);
  });

  test('ok/a device enrolled through the link belongs to the user', async () => {
    const device = await enrollThrough(state.link ?? '');
    state.udid = device.udid;
    const owned = await h.api('GET', `/api/v1/users/${state.alice}/enrollments`);
    expect(owned.status).toBe(200);
    expect(owned.body.items).toEqual([
      expect.objectContaining({
        enrollmentId: device.udid,
        userId: state.alice,
        groupId: 'global',
        enrollment: expect.objectContaining({ id: device.udid, enrolled: true }),
      }),
    ]);
    const enrollment = await h.api('GET', `/api/v1/enrollments/${device.udid}`);
    expect(enrollment.body).toMatchObject({ userId: state.alice, groupId: 'global' });
    const link = await h.api('GET', `/api/v1/users/${state.alice}/enrollment-link`);
    expect(link.body).toMatchObject({ url: state.link, status: 'enrolled', enrollments: 1 });
    const nobody = await h.api('GET', `/api/v1/users/${state.bob}/enrollments`);
    expect(nobody.body.items).toEqual([]);
  });

  test('ok/a rotated link answers 410 and its successor enrolls for the same user', async () => {
    const rotated = await h.api('POST', `/api/v1/users/${state.alice}/enrollment-link/rotate`);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.url as string;
    expect(fresh).not.toBe(state.link);
    const old = await h.raw('GET', new URL(state.link ?? '').pathname);
    expect(old.status).toBe(410);
    expect(JSON.parse(old.body)).toMatchObject({ code: 'ERR_TOKEN_ROTATED' });
    const second = await enrollThrough(fresh);
    const owned = await h.api('GET', `/api/v1/users/${state.alice}/enrollments`);
    expect(owned.body.items.map((o: { enrollmentId: string }) => o.enrollmentId)).toEqual([
      state.udid,
      second.udid,
    ]);
  });

  test('fail/a user out of sight or unknown is a 404', async () => {
    const res = await h.api('GET', '/api/v1/users/usr_unknown/enrollments');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('ERR_USER_NOT_FOUND');
  });
});

describe('a generic link', () => {
  test('ok/enrolls two devices as kiosk-1 and kiosk-2 of its group, with its policy', async () => {
    const group = await h.api('POST', '/api/v1/groups', { name: 'Kiosks', parentId: 'global' });
    expect(group.status).toBe(201);
    const groupId = group.body.id as string;
    const page = await h.api('PUT', `/api/v1/groups/${groupId}/settings/enrollment`, {
      currentSetting: 'override',
      values: { genericLinkPrefix: 'kiosk' },
    });
    expect(page.status).toBe(200);
    const link = await h.api('POST', `/api/v1/groups/${groupId}/enrollment-links`, {
      policy: 'kiosk-policy',
    });
    expect(link.status).toBe(201);
    expect(link.body).toMatchObject({ kind: 'generic', groupId, policy: 'kiosk-policy' });
    const users: unknown[] = [];
    for (const _ of [1, 2]) {
      const device = await enrollThrough(link.body.url as string);
      const enrollment = await h.api('GET', `/api/v1/enrollments/${device.udid}`);
      expect(enrollment.body.groupId).toBe(groupId);
      const user = await h.api('GET', `/api/v1/users/${enrollment.body.userId as string}`);
      users.push(user.body);
      const owned = await h.api('GET', `/api/v1/users/${user.body.id as string}/enrollments`);
      expect(owned.body.items).toEqual([expect.objectContaining({ enrollmentId: device.udid })]);
    }
    expect(users).toEqual([
      expect.objectContaining({ username: 'kiosk-1', groupId, policy: 'kiosk-policy' }),
      expect.objectContaining({ username: 'kiosk-2', groupId, policy: 'kiosk-policy' }),
    ]);
    const after = await h.api('GET', `/api/v1/groups/${groupId}/enrollment-links`);
    expect(after.body.items).toEqual([
      expect.objectContaining({ id: link.body.id, enrollments: 2, status: 'enrolled' }),
    ]);
  });
});
