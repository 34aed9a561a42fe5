/**
 * The invitation mail carries the portal's "set your password" link when the link service has
 * a password-setup minter: a fresh one-time token at every send, and the token works once.
 */
import { describe, expect, test } from '@jest/globals';
import { hashApiKey } from '../../src/admin/api-keys.js';
import { createWebAccounts } from '../../src/admin/web-accounts.js';
import type { Mailer, MailMessage } from '../../src/mail/ports.js';
import { createGroupService } from '../../src/management/groups-service.js';
import { invitationMessage } from '../../src/management/invitation.js';
import { createUserLinks } from '../../src/management/user-links.js';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import { ROOT_GROUP_ID } from '../../src/storage/ports.js';

const AT = new Date('2026-12-07T02:00:00Z');
const BASE = 'https://mdm.example.com';
const SETUP = /https:\/\/mdm\.example\.com\/portal\/setup\?token=([A-Za-z0-9_-]{43})/;

async function world() {
  const clock = () => AT;
  const admin = createMemoryAdminStorage({ clock });
  const groups = createGroupService({ store: admin, principals: admin, clock });
  await admin.createPolicy({
    ...{ id: 'pol_std', name: 'std', groupId: ROOT_GROUP_ID, createdAt: AT, updatedAt: AT },
  });
  const accounts = createWebAccounts({ store: admin, clock });
  const sent: MailMessage[] = [];
  const mailer: Mailer = { send: (m) => (sent.push(m), Promise.resolve()) };
  let n = 0;
  const mint = () => {
    const secret = `secret-${String(++n)}`.padEnd(43, 'x');
    return { secret, hash: hashApiKey(secret) };
  };
  const links = createUserLinks({
    ...{ store: admin, groups, mint, clock, publicUrl: () => BASE, mailer },
    passwordSetup: (id) => accounts.setupToken(id),
  });
  const user = await admin.createUser({
    ...{ username: 'ann', email: 'ann@example.com', groupId: ROOT_GROUP_ID, policy: 'pol_std' },
  });
  if (user === undefined) throw new Error('no user');
  return { accounts, links, sent, user };
}

describe('invitation: portal password link', () => {
  test('ok/each send carries a fresh setup link in text and HTML; each token works once', async () => {
    const w = await world();
    await w.links.send(w.user.id);
    await w.links.send(w.user.id);
    const tokens = w.sent.map((m) => SETUP.exec(m.text)?.[1]);
    expect(tokens[0]).toBeDefined();
    expect(tokens[1]).toBeDefined();
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(w.sent[0]?.html).toContain(`href="${BASE}/portal/setup?token=${String(tokens[0])}"`);
    const password = 'a long portal password';
    expect((await w.accounts.setUserPassword(String(tokens[0]), password))?.id).toBe(w.user.id);
    expect(await w.accounts.setUserPassword(String(tokens[0]), password)).toBeUndefined();
    expect((await w.accounts.signInUser('ann', password))?.id).toBe(w.user.id);
  });

  test('ok/without a setup link the mail says nothing of the portal', () => {
    const m = invitationMessage({
      user: { email: 'a@example.com', username: 'a' },
      url: `${BASE}/enroll/x`,
      qrPng: new Uint8Array([1]),
    });
    expect(m.text).not.toContain('/portal/');
    expect(m.html).not.toContain('/portal/');
  });

  test('ok/the setup link is escaped in the HTML', () => {
    const m = invitationMessage({
      user: { email: 'a@example.com', username: 'a' },
      url: `${BASE}/enroll/x`,
      qrPng: new Uint8Array([1]),
      portalSetupUrl: `${BASE}/portal/setup?token=a&b="c"`,
    });
    expect(m.html).toContain('token=a&amp;b=&quot;c&quot;');
  });
});
