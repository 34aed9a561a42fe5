/** Sign-in of users and administrators, setup tokens, password changes ending sessions. */
import { describe, expect, test } from '@jest/globals';
import { generateApiKey, hashApiKey } from '../../src/admin/api-keys.js';
import { createWebAccounts } from '../../src/admin/web-accounts.js';
import { createWebSessions } from '../../src/admin/web-sessions.js';
import type { WebAccounts } from '../../src/http/web/types.js';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import { OWNER_PRINCIPAL_ID, ROOT_GROUP_ID } from '../../src/storage/ports.js';

const PASSWORD = 'a long enough password';

async function setup() {
  let now = Date.UTC(2026, 0, 1);
  const clock = () => new Date(now);
  const store = createMemoryAdminStorage({ clock });
  const accounts: WebAccounts = createWebAccounts({ store, clock });
  const sessions = createWebSessions({ store, clock });
  const user = await store.createUser({
    username: 'Alice',
    email: 'Alice@Example.com',
    groupId: ROOT_GROUP_ID,
  });
  if (user === undefined) throw new Error('no user');
  return { store, accounts, sessions, user, advance: (s: number) => (now += s * 1000) };
}

describe('web accounts: users', () => {
  test('ok/a setup token sets the password once; the user signs in by username or e-mail, any case', async () => {
    const { accounts, user } = await setup();
    const token = await accounts.setupToken(user.id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await accounts.setUserPassword(token, PASSWORD))?.id).toBe(user.id);
    expect(await accounts.setUserPassword(token, PASSWORD)).toBeUndefined();
    expect((await accounts.signInUser('alice', PASSWORD))?.id).toBe(user.id);
    expect((await accounts.signInUser(' alice@example.COM ', PASSWORD))?.id).toBe(user.id);
    expect(await accounts.signInUser('alice', 'a wrong password!')).toBeUndefined();
    expect(await accounts.signInUser('bob', PASSWORD)).toBeUndefined();
  });

  test('fail/a user without a password cannot sign in', async () => {
    const { accounts } = await setup();
    expect(await accounts.signInUser('alice', PASSWORD)).toBeUndefined();
  });

  test('fail/an expired setup token (7 days by default) does nothing', async () => {
    const { accounts, user, advance } = await setup();
    const token = await accounts.setupToken(user.id);
    advance(7 * 24 * 3600);
    expect(await accounts.setUserPassword(token, PASSWORD)).toBeUndefined();
    expect(await accounts.signInUser('alice', PASSWORD)).toBeUndefined();
  });

  test('fail/a weak password is refused with TypeError and the token stays usable', async () => {
    const { accounts, user } = await setup();
    const token = await accounts.setupToken(user.id);
    await expect(accounts.setUserPassword(token, 'short')).rejects.toThrow(/at least 12/);
    expect(await accounts.setUserPassword(token, PASSWORD)).toBeDefined();
  });

  test('fail/a setup token for an unknown user is ERR_USER_NOT_FOUND', async () => {
    const { accounts } = await setup();
    await expect(accounts.setupToken('usr_nobody')).rejects.toMatchObject({
      code: 'ERR_USER_NOT_FOUND',
    });
  });

  test("ok/setting a password ends the user's other portal sessions", async () => {
    const { accounts, sessions, user } = await setup();
    const before = await sessions.create('portal', user.id);
    await accounts.setUserPassword(await accounts.setupToken(user.id), PASSWORD);
    expect(await sessions.resume('portal', before.token)).toBeUndefined();
  });
});

describe('web accounts: administrators', () => {
  test('ok/the owner has no password until one is set; then signs in by name, write scope', async () => {
    const { accounts, store } = await setup();
    const owner = await store.findPrincipal(OWNER_PRINCIPAL_ID);
    if (owner === undefined) throw new Error('no owner');
    expect(await accounts.signInAdmin(owner.name, PASSWORD)).toBeUndefined();
    await accounts.setAdminPassword(OWNER_PRINCIPAL_ID, PASSWORD);
    expect(await accounts.signInAdmin(owner.name.toUpperCase(), PASSWORD)).toEqual({
      principal: owner,
      keyScope: 'write',
    });
    expect(await accounts.signInAdmin(owner.name, 'not the password')).toBeUndefined();
  });

  test('fail/a disabled administrator cannot sign in nor get a password', async () => {
    const { accounts, store } = await setup();
    const admin = await store.createPrincipal({
      name: 'ops',
      role: 'full',
      groupId: ROOT_GROUP_ID,
    });
    await accounts.setAdminPassword(admin.id, PASSWORD);
    await store.disablePrincipal(admin.id, new Date());
    expect(await accounts.signInAdmin('ops', PASSWORD)).toBeUndefined();
    await expect(accounts.setAdminPassword(admin.id, PASSWORD)).rejects.toMatchObject({
      code: 'ERR_ADMIN_DISABLED',
    });
    await expect(accounts.setAdminPassword('adm_none', PASSWORD)).rejects.toMatchObject({
      code: 'ERR_ADMIN_NOT_FOUND',
    });
  });

  test("ok/an API key signs in its administrator with the key's scope; a revoked or unknown key does not", async () => {
    const { accounts, store } = await setup();
    const admin = await store.createPrincipal({
      name: 'viewer',
      role: 'full',
      groupId: ROOT_GROUP_ID,
    });
    const key = generateApiKey();
    const record = await store.createApiKey({
      name: 'k',
      scope: 'read',
      hash: hashApiKey(key),
      principalId: admin.id,
    });
    expect(await accounts.signInAdminWithKey(key)).toEqual({ principal: admin, keyScope: 'read' });
    expect(await accounts.signInAdminWithKey(generateApiKey())).toBeUndefined();
    expect(await accounts.signInAdminWithKey('with space')).toBeUndefined();
    await store.revokeApiKey(record.id);
    expect(await accounts.signInAdminWithKey(key)).toBeUndefined();
  });

  test("ok/setting an administrator's password ends its console sessions", async () => {
    const { accounts, sessions } = await setup();
    const before = await sessions.create('console', OWNER_PRINCIPAL_ID);
    await accounts.setAdminPassword(OWNER_PRINCIPAL_ID, PASSWORD);
    expect(await sessions.resume('console', before.token)).toBeUndefined();
  });
});
