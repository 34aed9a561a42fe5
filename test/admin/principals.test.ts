/**
 * Administrators' scope as pure decisions (rules A4 and A12) on a small tree:
 * Global > Sales > East, Global > Engineering. Each refusal asserts its code: out of sight is 404
 * (existence not revealed), in sight but not editable is 403, the owner and oneself are 409.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import {
  authorizeAdmin,
  authorizeGroup,
  canEdit,
  canSee,
  checkAdminChange,
  checkAdminDisable,
  checkKeyFor,
  checkKeyListing,
  checkKeyScope,
  type Caller,
} from '../../src/admin/principals.js';
import { ManagementError } from '../../src/errors.js';
import { buildGroupTree } from '../../src/management/tree.js';
import type { AdminRole, ApiKeyScope, PrincipalRecord } from '../../src/storage/ports.js';

const AT = new Date('2026-01-01T00:00:00Z');
const tree = buildGroupTree([
  { id: 'global', name: 'Global', createdAt: AT },
  { id: 'sales', name: 'Sales', parentId: 'global', createdAt: AT },
  { id: 'east', name: 'East', parentId: 'sales', createdAt: AT },
  { id: 'eng', name: 'Engineering', parentId: 'global', createdAt: AT },
]);

function admin(id: string, groupId: string, role: AdminRole = 'full'): PrincipalRecord {
  return { id, name: id, role, groupId, createdAt: AT };
}
const as = (p: PrincipalRecord, keyScope: ApiKeyScope = 'write'): Caller => ({
  principal: p,
  keyScope,
});

const owner = admin('owner', 'global');
const rootAdmin = admin('adm_root', 'global');
const sales = admin('adm_sales', 'sales');
const salesPeer = admin('adm_sales2', 'sales');
const east = admin('adm_east', 'east');
const eng = admin('adm_eng', 'eng');
const salesReader = admin('adm_sales_ro', 'sales', 'read-only');

/** The code `fn` throws, or `undefined` when it does not. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof ManagementError) return error.code;
    throw error;
  }
}

describe('canSee and canEdit (A12)', () => {
  test.each([
    // caller, group, sees, edits
    ['ok/a Sales writer sees and edits Sales', as(sales), 'sales', true, true],
    ['ok/a Sales writer sees and edits below Sales', as(sales), 'east', true, true],
    [
      'ok/a Sales writer sees Global (an ancestor) but cannot edit it',
      as(sales),
      'global',
      true,
      false,
    ],
    ['fail/a Sales writer neither sees nor edits Engineering', as(sales), 'eng', false, false],
    ['fail/a Sales read key sees but never edits Sales', as(sales, 'read'), 'sales', true, false],
    [
      'fail/a read-only administrator never edits, even with a write key',
      as(salesReader),
      'east',
      true,
      false,
    ],
    ['ok/the owner sees and edits everything', as(owner), 'eng', true, true],
  ])('%s', (_name, caller, group, sees, edits) => {
    expect(canSee(tree, caller, group)).toBe(sees);
    expect(canEdit(tree, caller, group)).toBe(edits);
  });

  test('ok/property: whoever may edit a group may see it, and edits only within its scope', () => {
    const groups = ['global', 'sales', 'east', 'eng'];
    const runs = Number(process.env.ORCHARD_PROPERTY_RUNS ?? 200);
    fc.assert(
      fc.property(
        fc.constantFrom(...groups),
        fc.constantFrom(...groups),
        fc.constantFrom<AdminRole>('full', 'read-only'),
        fc.constantFrom<ApiKeyScope>('read', 'write'),
        (scope, group, role, keyScope) => {
          const caller = as(admin('adm_x', scope, role), keyScope);
          if (!canEdit(tree, caller, group)) return;
          expect(canSee(tree, caller, group)).toBe(true);
          expect(tree.isWithin(group, scope)).toBe(true);
        },
      ),
      { numRuns: runs },
    );
  });
});

describe('authorizeGroup', () => {
  test.each([
    [
      'fail/a sibling group is not found (its existence is not revealed)',
      as(sales),
      'eng',
      'read',
      'ERR_GROUP_NOT_FOUND',
    ],
    ['fail/an unknown group is not found', as(owner), 'nope', 'read', 'ERR_GROUP_NOT_FOUND'],
    [
      'fail/writing at an ancestor is out of scope',
      as(sales),
      'global',
      'write',
      'ERR_ADMIN_SCOPE',
    ],
    ['fail/a read key writes nowhere', as(sales, 'read'), 'east', 'write', 'ERR_ADMIN_SCOPE'],
    ['ok/a Sales writer writes below Sales', as(sales), 'east', 'write', undefined],
    ['ok/a Sales reader reads Global', as(salesReader), 'global', 'read', undefined],
  ] as const)('%s', (_name, caller, group, access, code) => {
    expect(
      codeOf(() => {
        authorizeGroup(tree, caller, group, access);
      }),
    ).toBe(code);
  });
});

describe('authorizeAdmin', () => {
  test.each([
    [
      'fail/an unknown administrator is not found',
      as(sales),
      undefined,
      'read',
      'ERR_ADMIN_NOT_FOUND',
    ],
    [
      "fail/a sibling group's administrator is not found",
      as(sales),
      eng,
      'read',
      'ERR_ADMIN_NOT_FOUND',
    ],
    [
      "fail/an ancestor's administrator is visible, not editable",
      as(sales),
      rootAdmin,
      'write',
      'ERR_ADMIN_SCOPE',
    ],
    ['fail/the owner is not editable from Sales', as(sales), owner, 'write', 'ERR_ADMIN_SCOPE'],
    ["ok/an ancestor's administrator is visible", as(sales), owner, 'read', undefined],
    ['ok/a peer at the same group is editable', as(sales), salesPeer, 'write', undefined],
    ['ok/an administrator below is editable', as(sales), east, 'write', undefined],
    [
      'fail/a group vanished from under an administrator: not found',
      as(owner),
      admin('a', 'gone'),
      'read',
      'ERR_ADMIN_NOT_FOUND',
    ],
  ] as const)('%s', (_name, caller, target, access, code) => {
    expect(codeOf(() => authorizeAdmin(tree, caller, 'x', target, access))).toBe(code);
  });
});

describe('checkAdminChange', () => {
  test.each([
    [
      'fail/the owner is immutable, even to itself',
      as(owner),
      owner,
      { role: 'read-only' },
      'ERR_ADMIN_OWNER',
    ],
    [
      'fail/the owner is immutable to root administrators',
      as(rootAdmin),
      owner,
      {},
      'ERR_ADMIN_OWNER',
    ],
    [
      'fail/a Sales administrator cannot promote itself to Global',
      as(sales),
      sales,
      { groupId: 'global' },
      'ERR_ADMIN_SCOPE',
    ],
    [
      'fail/nor move a peer to a sibling group',
      as(sales),
      salesPeer,
      { groupId: 'eng' },
      'ERR_GROUP_NOT_FOUND',
    ],
    [
      'fail/nor move someone to an ancestor',
      as(sales),
      east,
      { groupId: 'global' },
      'ERR_ADMIN_SCOPE',
    ],
    ['fail/nor change its own role', as(sales), sales, { role: 'read-only' }, 'ERR_ADMIN_SELF'],
    ['fail/nor move itself down', as(sales), sales, { groupId: 'east' }, 'ERR_ADMIN_SELF'],
    [
      'fail/a disabled administrator is final',
      as(sales),
      { ...east, disabledAt: AT },
      { role: 'full' },
      'ERR_ADMIN_DISABLED',
    ],
    ['ok/renaming itself is fine', as(sales), sales, {}, undefined],
    [
      'ok/setting its own role to what it is',
      as(sales),
      sales,
      { role: 'full', groupId: 'sales' },
      undefined,
    ],
    [
      'ok/moving a peer down and making it read-only',
      as(sales),
      salesPeer,
      { groupId: 'east', role: 'read-only' },
      undefined,
    ],
  ] as const)('%s', (_name, caller, target, change, code) => {
    expect(
      codeOf(() => {
        checkAdminChange(tree, caller, target, change);
      }),
    ).toBe(code);
  });
});

describe('checkAdminDisable', () => {
  test.each([
    ['fail/the owner is never disabled', as(owner), owner, 'ERR_ADMIN_OWNER'],
    [
      'fail/the owner is never disabled by a root administrator',
      as(rootAdmin),
      owner,
      'ERR_ADMIN_OWNER',
    ],
    ['fail/nobody disables itself', as(sales), sales, 'ERR_ADMIN_SELF'],
    ['fail/twice is refused', as(sales), { ...east, disabledAt: AT }, 'ERR_ADMIN_DISABLED'],
    ['ok/a peer', as(sales), salesPeer, undefined],
  ] as const)('%s', (_name, caller, target, code) => {
    expect(
      codeOf(() => {
        checkAdminDisable(caller, target);
      }),
    ).toBe(code);
  });
});

describe('keys', () => {
  test.each([
    [
      'fail/a write key for a read-only administrator',
      as(sales),
      salesReader,
      'write',
      'ERR_ADMIN_READ_ONLY',
    ],
    [
      'fail/a key for a disabled administrator',
      as(sales),
      { ...east, disabledAt: AT },
      'read',
      'ERR_ADMIN_DISABLED',
    ],
    ["fail/the owner's key by someone else", as(rootAdmin), owner, 'read', 'ERR_ADMIN_OWNER'],
    ['ok/a read key for a read-only administrator', as(sales), salesReader, 'read', undefined],
    ["ok/the owner's key by the owner", as(owner), owner, 'write', undefined],
  ] as const)('%s', (_name, caller, target, scope, code) => {
    expect(
      codeOf(() => {
        checkKeyFor(caller, target, scope);
      }),
    ).toBe(code);
  });

  test('fail/ERR_ADMIN_READ_ONLY names the scope field and answers 422', () => {
    let error: unknown;
    try {
      checkKeyScope(salesReader, 'write');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ERR_ADMIN_READ_ONLY', status: 422, field: 'scope' });
  });

  test.each([
    ['ok/its own keys', as(east), east, undefined],
    ['ok/keys of an administrator below', as(salesReader, 'read'), east, undefined],
    ["fail/an ancestor's administrator's keys", as(sales), rootAdmin, 'ERR_ADMIN_SCOPE'],
  ] as const)('%s', (_name, caller, target, code) => {
    expect(
      codeOf(() => {
        checkKeyListing(tree, caller, target);
      }),
    ).toBe(code);
  });
});
