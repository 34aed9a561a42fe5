/**
 * Personal and generic enrollment links (M9, M10, S9): a personal link is made once and stays
 * the same, refuses a user without an effective policy (own or a group default), rotates (the old hash is marked rotated), follows
 * the `enrollment` page's lifetime (at least 24 h), is extended by sending, and reports its
 * status; generic links belong to a group; the invitation escapes what users typed.
 */
import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { hashApiKey } from '../../src/admin/api-keys.js';
import { createEnrollmentService } from '../../src/admin/enrollment-service.js';
import { createGroupService } from '../../src/management/groups-service.js';
import { escapeHtml, invitationMessage } from '../../src/management/invitation.js';
import { createUserLinks, linkStatus, type UserLinks } from '../../src/management/user-links.js';
import type { Mailer, MailMessage } from '../../src/mail/ports.js';
import { createMemoryAdminStorage } from '../../src/storage/memory/admin.js';
import { ROOT_GROUP_ID, type AdminStorage, type UserRecord } from '../../src/storage/ports.js';
import { decodeQrPng } from '../support/mail.js';

const DAY = 86_400;
const START = new Date('2026-12-07T02:00:00Z');
const URL_BASE = 'https://mdm.example.com';

interface World {
  admin: AdminStorage;
  links: UserLinks;
  sent: MailMessage[];
  /** Moves the clock forward. */
  advance(seconds: number): void;
  now(): Date;
  user(fields?: Partial<UserRecord>): Promise<UserRecord>;
  setLifetime(seconds: number): Promise<void>;
}

/** A deterministic 43-character base64url secret per call. */
function minter() {
  let n = 0;
  return () => {
    n += 1;
    const secret = createHash('sha256').update(`secret-${n}`).digest().toString('base64url');
    return { secret, hash: hashApiKey(secret) };
  };
}

async function world(options: { mailer?: boolean } = {}): Promise<World> {
  let now = START;
  const clock = () => now;
  const admin = createMemoryAdminStorage({ clock });
  const groups = createGroupService({ store: admin, principals: admin, clock });
  for (const name of ['standard', 'kiosk'])
    await admin.createPolicy({
      ...{ id: `pol_${name}`, name, groupId: ROOT_GROUP_ID },
      ...{ createdAt: START, updatedAt: START },
    });
  const sent: MailMessage[] = [];
  const mailer: Mailer = {
    send: (m) => {
      sent.push(m);
      return Promise.resolve();
    },
  };
  const links = createUserLinks({
    ...{ store: admin, groups, mint: minter(), clock, publicUrl: () => URL_BASE },
    ...(options.mailer === false ? {} : { mailer }),
  });
  let n = 0;
  return {
    ...{ admin, links, sent },
    advance(seconds) {
      now = new Date(now.getTime() + seconds * 1000);
    },
    now: clock,
    async user(fields = {}) {
      n += 1;
      const user = await admin.createUser({
        ...{ username: `user${n}`, email: `user${n}@example.com`, groupId: ROOT_GROUP_ID },
        policy: 'pol_standard',
        ...fields,
      });
      if (user === undefined) throw new Error('username taken');
      return user;
    },
    async setLifetime(seconds) {
      await groups.writeSettings(ROOT_GROUP_ID, 'enrollment', {
        values: { linkLifetimeSeconds: seconds },
      });
    },
  };
}

const expiresIn = (w: World, at: Date | undefined) =>
  ((at?.getTime() ?? NaN) - w.now().getTime()) / 1000;

describe('personal links', () => {
  test('ok/made once, then the same link every time', async () => {
    const w = await world();
    const user = await w.user();
    const first = await w.links.personal(user.id);
    const again = await w.links.personal(user.id);
    expect(again.url).toBe(first.url);
    expect(again.record.id).toBe(first.record.id);
    expect(first.url).toMatch(/^https:\/\/mdm\.example\.com\/enroll\/[A-Za-z0-9_-]{43}$/);
    expect(first.record).toMatchObject({ kind: 'personal', userId: user.id, singleUse: false });
    expect(first).toMatchObject({ status: 'created', state: 'active' });
  });

  test('fail/a user without a policy gets 409 ERR_USER_NO_POLICY, and no link is made', async () => {
    const w = await world();
    const { policy: _, ...fields } = await w.user();
    const user = await w.admin.createUser({ ...fields, username: 'nopolicy' });
    await expect(w.links.personal(user?.id ?? '')).rejects.toMatchObject({
      code: 'ERR_USER_NO_POLICY',
      status: 409,
    });
    expect(await w.admin.findPersonalEnrollmentToken(user?.id ?? '')).toBeUndefined();
  });

  test('ok/a user without a policy of their own gets a link once a group up the tree has a default', async () => {
    const w = await world();
    const { policy: _, ...fields } = await w.user();
    const user = await w.admin.createUser({ ...fields, username: 'inherits' });
    await w.admin.setGroupPolicy(ROOT_GROUP_ID, 'pol_kiosk');
    const link = await w.links.personal(user?.id ?? '');
    expect(link.record).toMatchObject({ kind: 'personal', userId: user?.id });
    expect(link.record.policy).toBeUndefined();
    await w.admin.setGroupPolicy(ROOT_GROUP_ID, undefined);
    await expect(w.links.rotate(user?.id ?? '')).rejects.toMatchObject({
      code: 'ERR_USER_NO_POLICY',
    });
  });

  test('fail/an unknown user is 404 ERR_USER_NOT_FOUND', async () => {
    await expect((await world()).links.personal('usr_nobody')).rejects.toMatchObject({
      code: 'ERR_USER_NOT_FOUND',
    });
  });

  test('ok/rotating gives a new link; the old hash is marked rotated', async () => {
    const w = await world();
    const user = await w.user();
    const old = await w.links.personal(user.id);
    const next = await w.links.rotate(user.id);
    expect(next.url).not.toBe(old.url);
    expect((await w.links.personal(user.id)).url).toBe(next.url);
    const secret = old.url.split('/').pop() ?? '';
    const stored = await w.admin.findEnrollmentTokenByHash(hashApiKey(secret));
    expect(stored?.rotatedAt).toEqual(w.now());
  });

  test.each([
    ['ok/default page: 7 days', undefined, 7 * DAY],
    ['ok/the minimum: 24 hours', DAY, DAY],
    ['ok/30 days', 30 * DAY, 30 * DAY],
  ])('%s', async (_name, lifetime, expected) => {
    const w = await world();
    if (lifetime !== undefined) await w.setLifetime(lifetime);
    const user = await w.user();
    const link = await w.links.personal(user.id);
    expect(expiresIn(w, link.record.expiresAt)).toBe(expected);
    expect(expected).toBeGreaterThanOrEqual(DAY);
  });

  test('fail/the page refuses a lifetime under 24 hours', async () => {
    await expect((await world()).setLifetime(DAY - 1)).rejects.toMatchObject({
      code: 'ERR_SETTINGS_VALUES',
    });
  });

  test('ok/an expired personal link is replaced on the next view', async () => {
    const w = await world();
    const user = await w.user();
    const old = await w.links.personal(user.id);
    w.advance(7 * DAY);
    const next = await w.links.personal(user.id);
    expect(next.url).not.toBe(old.url);
    expect(next.state).toBe('active');
  });

  test('ok/sending mails the same link and extends its expiry', async () => {
    const w = await world();
    const user = await w.user({ firstName: 'Ada' });
    const link = await w.links.personal(user.id);
    w.advance(3 * DAY);
    const sent = await w.links.send(user.id);
    expect(sent.url).toBe(link.url);
    expect(sent.status).toBe('sent');
    expect(expiresIn(w, sent.record.expiresAt)).toBe(7 * DAY);
    expect(w.sent).toHaveLength(1);
    const message = w.sent[0];
    expect(message?.to).toBe(user.email);
    expect(message?.text).toContain(link.url);
    expect(decodeQrPng(message?.attachments?.[0]?.content ?? new Uint8Array())).toBe(link.url);
  });

  test('fail/sending without a mailer is 503 ERR_MAIL_DISABLED', async () => {
    const w = await world({ mailer: false });
    const user = await w.user();
    await expect(w.links.send(user.id)).rejects.toMatchObject({
      code: 'ERR_MAIL_DISABLED',
      status: 503,
    });
  });

  test('fail/no link while the group does not allow device enrollment', async () => {
    const w = await world();
    const user = await w.user();
    const groups = createGroupService({ store: w.admin, principals: w.admin });
    await groups.writeSettings(ROOT_GROUP_ID, 'enrollment', {
      values: { allowedEnrollmentTypes: ['ade'] },
    });
    await expect(w.links.personal(user.id)).rejects.toMatchObject({
      code: 'ERR_ENROLLMENT_TYPE_DISABLED',
      status: 409,
    });
  });
});

describe('status', () => {
  const base = { uses: 0, enrollments: 0 };
  test.each([
    ['ok/created', base, 'created'],
    ['ok/sent', { ...base, sentAt: START }, 'sent'],
    ['ok/opened', { ...base, sentAt: START, openedAt: START, uses: 1 }, 'opened'],
    ['ok/opened without a mail', { ...base, uses: 2 }, 'opened'],
    [
      'ok/enrolled',
      { ...base, openedAt: START, enrolledAt: START, uses: 1, enrollments: 1 },
      'enrolled',
    ],
  ] as const)('%s', (_name, record, status) => {
    expect(linkStatus(record)).toBe(status);
  });

  test('ok/a download through the enrollment service moves the link to opened', async () => {
    const w = await world();
    const user = await w.user();
    const link = await w.links.personal(user.id);
    const secret = link.url.split('/').pop() ?? '';
    await w.admin.downloadEnrollmentToken(hashApiKey(secret), w.now());
    expect((await w.links.personal(user.id)).status).toBe('opened');
  });
});

describe('the enrollment route of a rotated link', () => {
  test('fail/a rotated link answers 410 ERR_TOKEN_ROTATED, an unknown one 404', async () => {
    const w = await world();
    const user = await w.user();
    const old = await w.links.personal(user.id);
    await w.links.rotate(user.id);
    const enrollment = createEnrollmentService({
      admin: w.admin,
      issueChallenge: () => Promise.reject(new Error('not reached')),
      ca: undefined as never,
      signing: undefined as never,
      topic: () => 'com.apple.mgmt.External.test',
      publicUrl: () => URL_BASE,
      clock: () => w.now(),
    });
    const secret = old.url.split('/').pop() ?? '';
    await expect(enrollment.serveProfile(secret)).rejects.toMatchObject({
      code: 'ERR_TOKEN_ROTATED',
      status: 410,
    });
    await expect(enrollment.serveProfile('A'.repeat(43))).rejects.toMatchObject({
      code: 'ERR_TOKEN_INVALID',
      status: 404,
    });
  });
});

describe('generic links', () => {
  test('ok/made, listed, shown and revoked per group', async () => {
    const w = await world();
    const made = await w.links.createGeneric(ROOT_GROUP_ID, { policy: 'Kiosk' });
    expect(made.record).toMatchObject({
      kind: 'generic',
      groupId: ROOT_GROUP_ID,
      policy: 'pol_kiosk',
    });
    expect(made.policy).toEqual({ id: 'pol_kiosk', name: 'kiosk' });
    await expect(
      w.links.createGeneric(ROOT_GROUP_ID, { policy: 'pol_kiosk', scope: 'nowhere' }),
    ).rejects.toMatchObject({ code: 'ERR_POLICY_UNKNOWN', status: 422 });
    await expect(w.links.createGeneric(ROOT_GROUP_ID, { policy: 'gold' })).rejects.toMatchObject({
      code: 'ERR_POLICY_UNKNOWN',
    });
    expect(expiresIn(w, made.record.expiresAt)).toBe(7 * DAY);
    const other = await w.links.createGeneric(ROOT_GROUP_ID, { expiresInSeconds: 2 * DAY });
    expect(expiresIn(w, other.record.expiresAt)).toBe(2 * DAY);
    expect((await w.links.listGeneric(ROOT_GROUP_ID)).map((l) => l.url).sort()).toEqual(
      [made.url, other.url].sort(),
    );
    expect((await w.links.generic(made.record.id)).url).toBe(made.url);
    await w.links.revokeGeneric(made.record.id);
    expect((await w.links.generic(made.record.id)).state).toBe('revoked');
    await expect(w.links.revokeGeneric(made.record.id)).rejects.toMatchObject({
      code: 'ERR_LINK_NOT_FOUND',
    });
  });

  test('fail/a lifetime under 24 hours is a TypeError', async () => {
    await expect(
      (await world()).links.createGeneric(ROOT_GROUP_ID, { expiresInSeconds: DAY - 1 }),
    ).rejects.toThrow(TypeError);
  });

  test('fail/a personal link is not a generic one', async () => {
    const w = await world();
    const link = await w.links.personal((await w.user()).id);
    await expect(w.links.generic(link.record.id)).rejects.toMatchObject({
      code: 'ERR_LINK_NOT_FOUND',
    });
  });
});

describe('QR codes', () => {
  test('ok/the PNG decodes to the link; the SVG is an SVG document', async () => {
    const { links } = await world();
    const url = `${URL_BASE}/enroll/${'x'.repeat(43)}`;
    expect(decodeQrPng((await links.qr(url, 'png')) as Uint8Array)).toBe(url);
    expect(await links.qr(url, 'svg')).toMatch(
      /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/,
    );
  });
});

describe('the invitation', () => {
  test('ok/user-provided text is escaped in the HTML', () => {
    const evil = '<script>alert("x")</script>&\'';
    const message = invitationMessage({
      user: { email: 'a@example.com', username: 'a', firstName: evil },
      url: `${URL_BASE}/enroll/abc?x="<b>"`,
      qrPng: new Uint8Array([1]),
    });
    expect(message.html).not.toContain('<script>');
    expect(message.html).toContain(escapeHtml(evil));
    expect(message.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(message.html).not.toContain('"<b>"');
    expect(message.text).toContain(evil);
    expect(message.attachments?.[0]).toMatchObject({
      contentType: 'image/png',
      cid: expect.any(String),
    });
  });
});
