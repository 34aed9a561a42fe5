/**
 * The user service on the memory admin store (rule M9): create, update, delete and list within
 * an administrator's scope, and CSV import with created, updated, unchanged and refused rows,
 * atomic all-or-nothing, an idempotent second run, `og` by id or unique name, and refusals that
 * say nothing about users outside the caller's scope. A user's `policy` names a policy by id or
 * name, is stored as its id, and is shown by name with its `policyId`; changes of a user's
 * policy or group are reported to `onUsersChanged`.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { createGroupService } from '../../src/management/groups-service.js';
import { createUserService, type UserService } from '../../src/management/users.js';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import type { AdminStorage } from '../../src/storage/ports.js';

const NOW = new Date('2026-12-07T00:00:00Z');

let store: AdminStorage;
let users: UserService;
/** Every `onUsersChanged` call, in order. */
let changed: string[][];

/** A policy record owned by `groupId`, with id `pol_${name}`. */
async function policy(name: string, groupId = 'global'): Promise<void> {
  await store.createPolicy({ id: `pol_${name}`, name, groupId, createdAt: NOW, updatedAt: NOW });
}

/** Global > Europe (europe) > France (france), Paris (paris-eu); Global > US (us) > Paris (paris-us). */
beforeEach(async () => {
  store = createMemoryAdminStorage({ clock: () => NOW });
  const { revision } = await store.loadManagement();
  const group = (id: string, name: string, parentId: string) => ({
    id,
    name,
    parentId,
    createdAt: NOW,
  });
  await store.applyManagement(
    {
      putGroups: [
        group('europe', 'Europe', 'global'),
        group('france', 'France', 'europe'),
        group('paris-eu', 'Paris', 'europe'),
        group('us', 'US', 'global'),
        group('paris-us', 'Paris', 'us'),
      ],
    },
    revision,
  );
  await policy('standard');
  await policy('std');
  await policy('usonly', 'us');
  changed = [];
  users = createUserService({
    store,
    groups: createGroupService({ store, principals: store }),
    onUsersChanged: async (ids) => {
      changed.push([...ids]);
      return Promise.resolve();
    },
  });
});

/** The code of the rejection of `promise`. */
async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error as { code?: unknown }).code,
  );
}

const ALICE = { username: 'alice', email: 'alice@example.com', groupId: 'france' };

describe('users', () => {
  test('ok/create, get, update (clearing with null), delete', async () => {
    const user = await users.create({ ...ALICE, firstName: 'Alice', policy: 'standard' });
    expect(await users.get(user.id)).toMatchObject({ username: 'alice', policy: 'pol_standard' });
    const updated = await users.update(user.id, {
      policy: null,
      custom1: '=cmd',
      groupId: 'europe',
    });
    expect(updated).toMatchObject({ custom1: '=cmd', groupId: 'europe', firstName: 'Alice' });
    expect(updated.policy).toBeUndefined();
    expect((await users.delete(user.id)).id).toBe(user.id);
    expect(await codeOf(users.get(user.id))).toBe('ERR_USER_NOT_FOUND');
  });

  test.each([
    ['fail/taken username, any case', { ...ALICE, username: 'ALICE' }, 'ERR_USERNAME_TAKEN'],
    ['fail/invalid email', { ...ALICE, username: 'b', email: 'nope' }, 'ERR_USER_INVALID'],
    ['fail/invalid username', { ...ALICE, username: 'a b' }, 'ERR_USER_INVALID'],
    ['fail/empty optional field', { ...ALICE, username: 'b', lastName: '' }, 'ERR_USER_INVALID'],
    ['fail/unknown group', { ...ALICE, username: 'b', groupId: 'nowhere' }, 'ERR_GROUP_NOT_FOUND'],
  ])('%s', async (_name, input, code) => {
    await users.create(ALICE);
    expect(await codeOf(users.create(input))).toBe(code);
  });

  test('fail/a scoped caller sees no user and no group outside its scope', async () => {
    const them = await users.create({ ...ALICE, groupId: 'us' });
    const scope = { scope: 'europe' };
    expect(await codeOf(users.get(them.id, scope))).toBe('ERR_USER_NOT_FOUND');
    expect(await codeOf(users.update(them.id, { email: 'x@example.com' }, scope))).toBe(
      'ERR_USER_NOT_FOUND',
    );
    expect(await codeOf(users.delete(them.id, scope))).toBe('ERR_USER_NOT_FOUND');
    expect(await codeOf(users.create({ ...ALICE, username: 'b', groupId: 'us' }, scope))).toBe(
      'ERR_GROUP_NOT_FOUND',
    );
    // Ancestors' users do not flow down either.
    const top = await users.create({ ...ALICE, username: 'top', groupId: 'global' });
    expect(await codeOf(users.get(top.id, scope))).toBe('ERR_USER_NOT_FOUND');
    const mine = await users.create({ ...ALICE, username: 'mine' }, scope);
    expect(await codeOf(users.update(mine.id, { groupId: 'us' }, scope))).toBe(
      'ERR_GROUP_NOT_FOUND',
    );
    expect(await codeOf(users.update(mine.id, { username: 'ALICE' }, scope))).toBe(
      'ERR_USERNAME_TAKEN',
    );
  });

  test('ok/policy by id or name (any case) is stored as its id, shown by name and id', async () => {
    const a = await users.create({ ...ALICE, policy: 'STANDARD' });
    const b = await users.create({ ...ALICE, username: 'b', policy: 'pol_std' });
    const c = await users.create({ ...ALICE, username: 'c' });
    expect([a.policy, b.policy, c.policy]).toEqual(['pol_standard', 'pol_std', undefined]);
    const views = await users.views([a, b, c]);
    expect(views.map((v) => [v.policy, v.policyId])).toEqual([
      ['standard', 'pol_standard'],
      ['std', 'pol_std'],
      [null, null],
    ]);
    expect((await users.update(c.id, { policy: 'std' })).policy).toBe('pol_std');
  });

  test.each([
    ['fail/an unknown policy', {}, 'nothing'],
    ['fail/a policy owned outside the scope', { scope: 'europe' }, 'usonly'],
  ])('%s is 422 ERR_POLICY_UNKNOWN', async (_name, scope, ref) => {
    const e = await users.create({ ...ALICE, policy: ref }, scope).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ERR_POLICY_UNKNOWN', status: 422, field: 'policy' });
    const mine = await users.create(ALICE, scope);
    expect(await codeOf(users.update(mine.id, { policy: ref }, scope))).toBe('ERR_POLICY_UNKNOWN');
    expect((await users.get(mine.id)).policy).toBeUndefined();
  });

  test("ok/onUsersChanged hears of created users and of changes of a user's policy or group", async () => {
    const user = await users.create(ALICE);
    await users.update(user.id, { email: 'other@example.com', firstName: 'A' });
    await users.update(user.id, { policy: 'std' });
    await users.update(user.id, { policy: 'pol_std' });
    await users.update(user.id, { groupId: 'europe' });
    await users.update(user.id, { policy: null });
    expect(changed).toEqual([[user.id], [user.id], [user.id], [user.id]]);
  });

  test('ok/list pages within the scope, of a group and the groups below it', async () => {
    for (const [username, groupId] of [
      ['a', 'france'],
      ['b', 'europe'],
      ['c', 'us'],
      ['d', 'paris-eu'],
    ] as const)
      await users.create({ username, email: `${username}@example.com`, groupId });
    const names = async (options: Parameters<UserService['list']>[0]) =>
      (await users.list(options)).items.map((u) => u.username).sort();
    expect(await names({ limit: 10 })).toEqual(['a', 'b', 'c', 'd']);
    expect(await names({ limit: 10, scope: 'europe' })).toEqual(['a', 'b', 'd']);
    expect(await names({ limit: 10, groupId: 'france' })).toEqual(['a']);
    expect(await codeOf(users.list({ limit: 10, scope: 'europe', groupId: 'us' }))).toBe(
      'ERR_GROUP_NOT_FOUND',
    );
    const first = await users.list({ limit: 2 });
    expect(first.nextCursor).toBeDefined();
  });
});

const FILE = [
  'username,email,first_name,og,policy,send_invite',
  'alice,alice@example.com,Alice,france,standard,yes',
  'bob,bob@example.com,Bob,,,',
  'carol,not-an-address,Carol,,,',
  'dave,dave@example.com,Dave,France,,no',
].join('\r\n');

describe('importUsers', () => {
  test('ok/created, updated, unchanged and refused rows; a second run changes nothing', async () => {
    await users.create({
      username: 'bob',
      email: 'bob@example.com',
      groupId: 'us',
      firstName: 'B',
    });
    const first = await users.importUsers(FILE);
    expect(first).toMatchObject({
      applied: true,
      created: 2,
      updated: 1,
      unchanged: 0,
      refused: 1,
    });
    expect(first.rows.map((r) => [r.line, r.username, r.outcome, r.sendInvite])).toEqual([
      [2, 'alice', 'created', true],
      [3, 'bob', 'updated', false],
      [4, 'carol', 'refused', false],
      [5, 'dave', 'created', false],
    ]);
    expect(first.rows[2]?.reason).toMatch(/email is not an e-mail address/);
    // No og: bob stays in his group; dave's og is France's name.
    expect(await users.get(first.rows[1]?.userId ?? '')).toMatchObject({
      groupId: 'us',
      firstName: 'Bob',
    });
    expect(await users.get(first.rows[3]?.userId ?? '')).toMatchObject({ groupId: 'france' });
    const second = await users.importUsers(FILE);
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 3, refused: 1 });
  });

  test('ok/new users without og go to the default group, else the scope group', async () => {
    const text = 'username,email\nerin,erin@example.com\n';
    await users.importUsers(text, { scope: 'europe' });
    expect(await store.findUserByUsername('erin')).toMatchObject({ groupId: 'europe' });
    await users.importUsers('username,email\nfay,fay@example.com\n', { groupId: 'us' });
    expect(await store.findUserByUsername('fay')).toMatchObject({ groupId: 'us' });
  });

  test('ok/a policy cell names a policy by id or name; an unknown one refuses its row', async () => {
    const text = [
      'username,email,policy',
      'ann,ann@example.com,Standard',
      'ben,ben@example.com,pol_std',
      'cy,cy@example.com,gold',
      'dee,dee@example.com,usonly',
    ].join('\n');
    const report = await users.importUsers(text, { scope: 'europe' });
    expect(report.rows.map((r) => [r.username, r.outcome, r.reason])).toEqual([
      ['ann', 'created', undefined],
      ['ben', 'created', undefined],
      ['cy', 'refused', "policy gold: no such policy in this administrator's scope"],
      ['dee', 'refused', "policy usonly: no such policy in this administrator's scope"],
    ]);
    expect((await store.findUserByUsername('ann'))?.policy).toBe('pol_standard');
    expect((await store.findUserByUsername('ben'))?.policy).toBe('pol_std');
    const again = await users.importUsers(text, { scope: 'europe' });
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 2, refused: 2 });
  });

  test('ok/onUsersChanged hears of rows created or whose policy or group changed', async () => {
    const bob = await users.create({ username: 'bob', email: 'bob@example.com', groupId: 'us' });
    const carl = await users.create({ username: 'carl', email: 'c@example.com', groupId: 'us' });
    changed = [];
    const text = [
      'username,email,og,policy',
      'ann,ann@example.com,,',
      'bob,bob@example.com,,std',
      'carl,carl@example.com,,',
    ].join('\n');
    const report = await users.importUsers(text);
    expect(report).toMatchObject({ created: 1, updated: 2 });
    expect(changed).toEqual([[report.rows[0]?.userId, bob.id]]);
    expect(changed.flat()).not.toContain(carl.id);
    changed = [];
    await users.importUsers(text);
    expect(changed).toEqual([]);
  });

  test('ok/an empty cell clears its field, a missing column keeps it', async () => {
    await users.importUsers('username,email,policy,custom_1\nalice,a@example.com,std,x\n');
    await users.importUsers('username,email,policy\nalice,a@example.com,\n');
    const alice = await store.findUserByUsername('alice');
    expect(alice?.policy).toBeUndefined();
    expect(alice?.custom1).toBe('x');
  });

  test('fail/atomic: one refused row applies nothing and says why on every row', async () => {
    const report = await users.importUsers(FILE, { atomic: true });
    expect(report).toMatchObject({ applied: false, atomic: true, created: 0, refused: 4 });
    expect(report.rows[0]?.reason).toMatch(/atomic and 1 row\(s\) were refused/);
    expect(report.rows[2]?.reason).toMatch(/not an e-mail address/);
    expect((await store.listUsers({ limit: 10 })).items).toEqual([]);
  });

  test('ok/atomic: a clean file is applied whole', async () => {
    const clean = FILE.split('\r\n')
      .filter((l) => !l.startsWith('carol'))
      .join('\n');
    const report = await users.importUsers(clean, { atomic: true });
    expect(report).toMatchObject({ applied: true, created: 3, refused: 0 });
  });

  test('fail/a scoped import reaches no user and no group outside its scope, and says no more', async () => {
    await users.create({
      username: 'bob',
      email: 'secret@example.com',
      groupId: 'us',
      firstName: 'Secret',
    });
    const text = [
      'username,email,og',
      'bob,bob@example.com,',
      'carl,carl@example.com,us',
      'dora,dora@example.com,US',
      'emil,emil@example.com,Paris',
    ].join('\n');
    const report = await users.importUsers(text, { scope: 'europe' });
    expect(report.rows.map((r) => [r.username, r.outcome, r.reason, r.userId])).toEqual([
      ['bob', 'refused', 'username bob is taken', undefined],
      [
        'carl',
        'refused',
        "og us: no such organization group in this administrator's scope",
        undefined,
      ],
      [
        'dora',
        'refused',
        "og US: no such organization group in this administrator's scope",
        undefined,
      ],
      // Only one Paris is in Europe's scope: the name is unique there.
      ['emil', 'created', undefined, expect.any(String)],
    ]);
    expect(await store.findUserByUsername('bob')).toMatchObject({ email: 'secret@example.com' });
    expect(await codeOf(users.importUsers(text, { scope: 'europe', groupId: 'us' }))).toBe(
      'ERR_GROUP_NOT_FOUND',
    );
  });

  test('fail/an og name shared by two groups in scope is refused', async () => {
    const report = await users.importUsers('username,email,og\nann,ann@example.com,Paris\n');
    expect(report.rows[0]?.reason).toMatch(/names 2 organization groups: give the group's id/);
  });

  test('fail/an unreadable file is refused whole', async () => {
    expect(await codeOf(users.importUsers('username,phone\n'))).toBe('ERR_USER_CSV');
  });
});
