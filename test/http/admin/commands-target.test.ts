/**
 * `POST /api/v1/commands` with a target instead of listed ids: every enrolled device, or the
 * enrolled devices owned by users of a group's subtree. Queued in one storage call, pushed,
 * audited by the target's name and count; refusals for both shapes at once, an unknown group,
 * no enrolled device and a read-only key. The listed-ids shape keeps working.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { profilesApi, type ProfilesApi } from './profiles-fixture.js';

let api: ProfilesApi;
const COMMAND = { RequestType: 'ProfileList' };

beforeEach(async () => {
  api = await profilesApi();
});

/** The enrollment ids the command targets, in target order. */
async function targetsOf(uuid: unknown): Promise<string[]> {
  const found = await api.storage.findCommand(String(uuid));
  return found?.targets.map((t) => t.enrollmentId) ?? [];
}

/** Creates a user in `groupId` and records it as the owner of `enrollmentId`. */
async function own(enrollmentId: string, username: string, groupId: string): Promise<void> {
  const user = await api.admin.createUser({
    username,
    email: `${username}@example.com`,
    groupId,
  });
  if (user === undefined) throw new Error('user not created');
  await api.admin.assignEnrollmentOwner({
    enrollmentId,
    userId: user.id,
    groupId,
    assignedAt: new Date('2026-12-07T01:00:00Z'),
  });
}

describe('POST /api/v1/commands with a target', () => {
  test('ok/kind enrolled queues to every enrolled device (not a pending one), audited by name and count', async () => {
    for (const id of ['E2', 'E1', 'E3']) await api.enroll(id);
    await api.storage.storeAuthenticate({ id: 'P', type: 'device', deviceId: 'P', facts: {} });
    const res = await api.call(api.keys.root, 'POST', '/api/v1/commands', {
      target: { kind: 'enrolled' },
      command: COMMAND,
    });
    expect(res.status).toBe(201);
    expect(res.body.targets).toBe(3);
    expect(await targetsOf(res.body.commandUuid)).toEqual(['E1', 'E2', 'E3']);
    const audit = await api.admin.listAudit({ limit: 10 });
    expect(audit.items[0]).toMatchObject({
      action: 'command.create',
      target: 'enrolled',
      detail: { commandUuid: res.body.commandUuid, requestType: 'ProfileList', targets: 3 },
    });
  });

  test('ok/kind group queues to the enrolled devices owned by users of the group and below', async () => {
    const emea = (await api.deps.groups.createGroup({ name: 'EMEA', parentId: api.groups.sales }))
      .group.id;
    for (const id of ['S1', 'S2', 'X1', 'N1']) await api.enroll(id);
    await own('S1', 'sam', api.groups.sales);
    await own('S2', 'sue', emea);
    await own('X1', 'eve', api.groups.eng);
    const res = await api.call(api.keys.root, 'POST', '/api/v1/commands', {
      target: { kind: 'group', groupId: api.groups.sales },
      command: COMMAND,
    });
    expect(res.status).toBe(201);
    expect(res.body.targets).toBe(2);
    expect((await targetsOf(res.body.commandUuid)).sort()).toEqual(['S1', 'S2']);
    const audit = await api.admin.listAudit({ limit: 10 });
    expect(audit.items[0]).toMatchObject({
      action: 'command.create',
      target: `group:${api.groups.sales}`,
      detail: { targets: 2 },
    });
  });

  test('ok/listed enrollment ids still work as before', async () => {
    for (const id of ['E1', 'E2']) await api.enroll(id);
    const res = await api.call(api.keys.root, 'POST', '/api/v1/commands', {
      enrollmentIds: ['E2', 'E1'],
      command: COMMAND,
    });
    expect(res.status).toBe(201);
    expect(await targetsOf(res.body.commandUuid)).toEqual(['E2', 'E1']);
  });

  test('fail/both enrollmentIds and a target is 400 naming target, and queues nothing', async () => {
    await api.enroll('E1');
    const res = await api.call(api.keys.root, 'POST', '/api/v1/commands', {
      enrollmentIds: ['E1'],
      target: { kind: 'enrolled' },
      command: COMMAND,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR_BAD_REQUEST', field: 'target' });
    expect((await api.storage.listForEnrollment('E1', { limit: 10 })).items).toEqual([]);
  });

  test.each([
    ['an unknown kind', { kind: 'all' }],
    ['a group without its id', { kind: 'group' }],
    ['a stranger key', { kind: 'enrolled', groupId: 'x' }],
  ])('fail/a target with %s is 400', async (_name, target) => {
    const res = await api.call(api.keys.root, 'POST', '/api/v1/commands', {
      target,
      command: COMMAND,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR_BAD_REQUEST' });
  });

  test('fail/a read-only key is 403 and queues nothing', async () => {
    await api.enroll('E1');
    const res = await api.call(api.keys.rootRead, 'POST', '/api/v1/commands', {
      target: { kind: 'enrolled' },
      command: COMMAND,
    });
    expect(res.status).toBe(403);
    expect((await api.storage.listForEnrollment('E1', { limit: 10 })).items).toEqual([]);
  });

  test('fail/a group-scoped administrator may not target every enrolled device (403)', async () => {
    await api.enroll('E1');
    const res = await api.call(api.keys.sales, 'POST', '/api/v1/commands', {
      target: { kind: 'enrolled' },
      command: COMMAND,
    });
    expect(res.status).toBe(403);
    expect((await api.storage.listForEnrollment('E1', { limit: 10 })).items).toEqual([]);
  });

  test('fail/an unknown group is 404; a target with no enrolled device is 404 and stores nothing', async () => {
    const unknown = await api.call(api.keys.root, 'POST', '/api/v1/commands', {
      target: { kind: 'group', groupId: 'nope' },
      command: COMMAND,
    });
    expect(unknown.status).toBe(404);
    const empty = await api.call(api.keys.root, 'POST', '/api/v1/commands', {
      target: { kind: 'enrolled' },
      command: COMMAND,
    });
    expect(empty.status).toBe(404);
    expect(empty.body).toMatchObject({ code: 'ERR_NOT_FOUND' });
    const audit = await api.admin.listAudit({ limit: 10 });
    expect(audit.items.filter((e) => e.action === 'command.create')).toEqual([]);
  });

  test('fail/an invalid command with a target is 422 and queues nothing', async () => {
    await api.enroll('E1');
    const res = await api.call(api.keys.root, 'POST', '/api/v1/commands', {
      target: { kind: 'enrolled' },
      command: { RequestType: 'InstallProfile' },
    });
    expect(res.status).toBe(422);
    expect((await api.storage.listForEnrollment('E1', { limit: 10 })).items).toEqual([]);
  });
});
