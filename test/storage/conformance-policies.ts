/**
 * The policies storage conformance suite: policies (names unique case-insensitively), their
 * assignments, the groups' default policies and what names a policy. Every {@link AdminStorage}
 * adapter must pass it; call `runPolicyConformance(name, factory)` from a `*.test.ts`.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import type {
  AdminStorage,
  PolicyAssignmentRecord,
  PolicyRecord,
} from '../../src/storage/ports.js';
import {
  describeAdminSuites,
  type AdminStorageFactory,
  type AdminSuiteContext,
} from './conformance-admin.js';
import { deviceProfileSuite } from './conformance-device-profiles.js';
import { ownedEnrollmentSuite } from './conformance-owned-enrollments.js';
import { apply, group } from './management-fixtures.js';

/** A policy record `pol_<n>` named `name`, created now. */
export function policy(
  ctx: AdminSuiteContext,
  n: string,
  name: string,
  groupId = 'global',
): PolicyRecord {
  const at = ctx.clock.now();
  return { id: `pol_${n}`, name, groupId, createdAt: at, updatedAt: at };
}

/** Stores a library profile `prf_<n>` (identifier `com.example.<n>`) owned by the root. */
export async function libraryProfile(ctx: AdminSuiteContext, n: string): Promise<string> {
  const id = `prf_${n}`;
  const content = Buffer.from(`<plist>${n}</plist>`);
  const at = ctx.clock.now();
  const ok = await ctx.store().createLibraryProfile(
    {
      ...{ id, groupId: 'global', identifier: `com.example.${n}`, name: n },
      ...{ assignmentType: 'auto', latestVersion: 1, createdAt: at, updatedAt: at },
    },
    {
      ...{ profileId: id, version: 1, payloadUuid: `uuid-${n}`, content, createdBy: 'owner' },
      ...{ sha256: createHash('sha256').update(content).digest('hex'), createdAt: at },
    },
  );
  if (!ok) throw new Error(`profile ${n} not stored`);
  return id;
}

function assignment(
  ctx: AdminSuiteContext,
  policyId: string,
  profileId: string,
  extra: Partial<PolicyAssignmentRecord> = {},
): PolicyAssignmentRecord {
  const at = ctx.clock.now();
  return {
    ...{ policyId, profileId, assignmentType: 'auto', removal: 'always' },
    ...{ createdAt: at, updatedAt: at, ...extra },
  };
}

async function created(store: AdminStorage, record: PolicyRecord): Promise<PolicyRecord> {
  expect(await store.createPolicy(record)).toBe(true);
  return record;
}

function policySuite(ctx: AdminSuiteContext): void {
  describe('policies', () => {
    test('ok/a policy is stored, found by id and by its name in any case', async () => {
      const store = ctx.store();
      const p = await created(store, { ...policy(ctx, 'a', 'Staff'), description: 'all staff' });
      expect(await store.findPolicy('pol_a')).toEqual(p);
      for (const name of ['Staff', 'staff', 'STAFF'])
        expect(await store.findPolicyByName(name)).toEqual(p);
      expect(await store.findPolicyByName('Staf')).toBeUndefined();
      expect(await store.findPolicy('pol_zz')).toBeUndefined();
    });

    test('fail/a name taken in another case stores nothing', async () => {
      const store = ctx.store();
      await created(store, policy(ctx, 'a', 'Staff'));
      expect(await store.createPolicy(policy(ctx, 'b', 'sTAFF'))).toBe(false);
      expect(await store.findPolicy('pol_b')).toBeUndefined();
    });

    test.each([
      ['a bad id', { id: 'p1' }],
      ['an empty name', { name: ' ' }],
      ['an unknown group', { groupId: 'nope' }],
    ])('fail/a policy with %s is a TypeError', async (_, bad) => {
      const store = ctx.store();
      await expect(store.createPolicy({ ...policy(ctx, 'a', 'A'), ...bad })).rejects.toThrow(
        TypeError,
      );
      expect((await store.listPolicies({ limit: 10 })).items).toEqual([]);
    });

    test('ok/update renames, moves, describes and clears; a taken name changes nothing', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      const p = await created(store, { ...policy(ctx, 'a', 'One'), description: 'd' });
      await created(store, policy(ctx, 'b', 'Two'));
      ctx.clock.advance(1000);
      const at = ctx.clock.now();
      expect(await store.updatePolicy(p.id, { name: 'TWO' }, at)).toBe('name-taken');
      expect(await store.findPolicy(p.id)).toEqual(p);
      const next = await store.updatePolicy(
        p.id,
        { name: 'ONE', description: null, groupId: 'a' },
        at,
      );
      const expected = { id: p.id, name: 'ONE', groupId: 'a', createdAt: p.createdAt };
      expect(next).toEqual({ ...expected, updatedAt: at });
      expect(await store.findPolicy(p.id)).toEqual(next);
      expect(await store.findPolicyByName('one')).toEqual(next);
      expect(await store.updatePolicy(p.id, { description: 'again' }, at)).toEqual({
        ...expected,
        updatedAt: at,
        description: 'again',
      });
      expect(await store.updatePolicy('pol_zz', { name: 'x' }, at)).toBeUndefined();
      await expect(store.updatePolicy(p.id, { groupId: 'nope' }, at)).rejects.toThrow(TypeError);
    });

    test('ok/policies list in id order, by group, across pages; a foreign cursor is a TypeError', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      for (const n of ['c', 'a', 'b']) await created(store, policy(ctx, n, n.toUpperCase()));
      await created(store, policy(ctx, 'd', 'D', 'a'));
      const first = await store.listPolicies({ limit: 2 });
      expect(first.items.map((p) => p.id)).toEqual(['pol_a', 'pol_b']);
      const rest = await store.listPolicies({ limit: 2, cursor: first.nextCursor ?? '' });
      expect(rest).toEqual({
        items: [expect.objectContaining({ id: 'pol_c' }), expect.objectContaining({ id: 'pol_d' })],
      });
      const inA = await store.listPolicies({ limit: 10, groupIds: ['a'] });
      expect(inA.items.map((p) => p.id)).toEqual(['pol_d']);
      expect(await store.countPolicies('global')).toBe(3);
      expect(await store.countPolicies('a')).toBe(1);
      await expect(store.listPolicies({ limit: 2, cursor: 'usr_1' })).rejects.toThrow(TypeError);
    });

    test('fail/a group owning a policy cannot be deleted', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'a', 'global')] });
      await created(store, policy(ctx, 'a', 'A', 'a'));
      const { revision } = await store.loadManagement();
      await expect(store.applyManagement({ deleteGroups: ['a'] }, revision)).rejects.toThrow(
        TypeError,
      );
      expect(await store.findGroup('a')).toBeDefined();
    });
  });
}

function assignmentSuite(ctx: AdminSuiteContext): void {
  describe('policy assignments', () => {
    test('ok/assignments are put, replaced, listed both ways and deleted', async () => {
      const store = ctx.store();
      const [x, y] = [await libraryProfile(ctx, 'x'), await libraryProfile(ctx, 'y')];
      await created(store, policy(ctx, 'b', 'B'));
      await created(store, policy(ctx, 'a', 'A'));
      const ay = assignment(ctx, 'pol_a', y, { assignmentType: 'optional', removal: 'never' });
      const ax = assignment(ctx, 'pol_a', x, {
        removal: 'with-authorization',
        removalPassword: 'K7PQ-secret',
      });
      const bx = assignment(ctx, 'pol_b', x, { assignmentType: 'interactive' });
      for (const a of [ay, ax, bx]) await store.putAssignment(a);
      expect(await store.listAssignments('pol_a')).toEqual([ax, ay]);
      expect(await store.listProfileAssignments(x)).toEqual([ax, bx]);
      ctx.clock.advance(1000);
      const replaced = assignment(ctx, 'pol_a', x, { removal: 'always' });
      await store.putAssignment({ ...replaced, createdAt: ax.createdAt });
      expect(await store.listAssignments('pol_a')).toEqual([
        { ...replaced, createdAt: ax.createdAt },
        ay,
      ]);
      expect(await store.deleteAssignment('pol_a', y)).toBe(true);
      expect(await store.deleteAssignment('pol_a', y)).toBe(false);
      expect(await store.listAssignments('pol_a')).toHaveLength(1);
      expect(await store.listAssignments('pol_zz')).toEqual([]);
    });

    test.each([
      ['an unknown policy', { policyId: 'pol_zz' }],
      ['an unknown profile', { profileId: 'prf_zz' }],
      ['a bad removal control', { removal: 'sometimes' }],
      ['a bad type', { assignmentType: 'forced' }],
      ['with-authorization without a password', { removal: 'with-authorization' }],
      ['a password with another control', { removalPassword: 'p' }],
    ])('fail/an assignment with %s is a TypeError', async (_, bad) => {
      const store = ctx.store();
      const x = await libraryProfile(ctx, 'x');
      await created(store, policy(ctx, 'a', 'A'));
      const record = { ...assignment(ctx, 'pol_a', x), ...bad } as PolicyAssignmentRecord;
      await expect(store.putAssignment(record)).rejects.toThrow(TypeError);
      expect(await store.listAssignments('pol_a')).toEqual([]);
    });

    test('ok/deleting a policy or a library profile deletes its assignments', async () => {
      const store = ctx.store();
      const [x, y] = [await libraryProfile(ctx, 'x'), await libraryProfile(ctx, 'y')];
      await created(store, policy(ctx, 'a', 'A'));
      await created(store, policy(ctx, 'b', 'B'));
      for (const p of ['pol_a', 'pol_b'])
        for (const f of [x, y]) await store.putAssignment(assignment(ctx, p, f));
      expect(await store.deletePolicy('pol_a')).toBe(true);
      expect(await store.deletePolicy('pol_a')).toBe(false);
      expect(await store.listAssignments('pol_a')).toEqual([]);
      expect(await store.findPolicyByName('a')).toBeUndefined();
      expect(await store.deleteLibraryProfile(x)).toBe(true);
      expect(await store.listProfileAssignments(x)).toEqual([]);
      expect(await store.listAssignments('pol_b')).toEqual([assignment(ctx, 'pol_b', y)]);
      expect(await store.createPolicy(policy(ctx, 'c', 'A'))).toBe(true);
    });
  });
}

function defaultsSuite(ctx: AdminSuiteContext): void {
  describe('group default policies and references', () => {
    test('ok/a group default is set, replaced, listed and cleared; it goes with its group', async () => {
      const store = ctx.store();
      await apply(store, { putGroups: [group(ctx, 'b', 'global'), group(ctx, 'a', 'global')] });
      await created(store, policy(ctx, 'a', 'A'));
      await created(store, policy(ctx, 'b', 'B'));
      await store.setGroupPolicy('b', 'pol_a');
      await store.setGroupPolicy('a', 'pol_a');
      await store.setGroupPolicy('global', 'pol_b');
      await store.setGroupPolicy('a', 'pol_b');
      const all = await store.listGroupPolicies();
      expect([...all]).toEqual([
        ['a', 'pol_b'],
        ['b', 'pol_a'],
        ['global', 'pol_b'],
      ]);
      await store.setGroupPolicy('global', undefined);
      await apply(store, { deleteGroups: ['b'] });
      expect([...(await store.listGroupPolicies())]).toEqual([['a', 'pol_b']]);
      await expect(store.setGroupPolicy('nope', 'pol_a')).rejects.toThrow(TypeError);
      await expect(store.setGroupPolicy('a', 'pol_zz')).rejects.toThrow(TypeError);
    });

    test('ok/references count users, group defaults and unrevoked links', async () => {
      const store = ctx.store();
      await created(store, policy(ctx, 'a', 'A'));
      await created(store, policy(ctx, 'b', 'B'));
      const fields = { email: 'e@example.com', groupId: 'global', policy: 'pol_a' };
      await store.createUser({ ...fields, username: 'ann' });
      await store.createUser({ ...fields, username: 'bob' });
      await store.createUser({ ...fields, username: 'cid', policy: 'pol_b' });
      await store.setGroupPolicy('global', 'pol_a');
      const link = { singleUse: false, kind: 'generic' as const, groupId: 'global' };
      await store.createEnrollmentToken({ ...link, hash: 'g1', policy: 'pol_a' });
      const revoked = await store.createEnrollmentToken({ ...link, hash: 'g2', policy: 'pol_a' });
      await store.revokeEnrollmentToken(revoked.id);
      expect(await store.countPolicyReferences('pol_a')).toEqual({ users: 2, groups: 1, links: 1 });
      expect(await store.countPolicyReferences('pol_b')).toEqual({ users: 1, groups: 0, links: 0 });
      expect(await store.countPolicyReferences('pol_zz')).toEqual({
        users: 0,
        groups: 0,
        links: 0,
      });
    });
  });
}

/** Runs the policies, device-profile and owned-enrollment suites against `factory`'s adapter. */
export function runPolicyConformance(name: string, factory: AdminStorageFactory): void {
  describeAdminSuites(`policies storage conformance: ${name}`, factory, [
    policySuite,
    assignmentSuite,
    defaultsSuite,
    deviceProfileSuite,
    ownedEnrollmentSuite,
  ]);
}
