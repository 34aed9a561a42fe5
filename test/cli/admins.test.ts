/**
 * `orchard admins add|list` and `orchard apikey create --admin`, run in-process on a SQLite
 * database made for the test: a new administrator comes with one key printed once (write for a
 * full one, read for a read-only one), keys belong to the administrator named, a read-only
 * administrator never gets a write key, and misuse exits 2 while bad input exits 1.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { authenticate } from '../../src/admin/api-keys.js';
import { databaseCli } from './database-cli.js';

const cli = databaseCli('orchard-admins-cli-');
const { orchard, withStore } = cli;

interface Added {
  id: string;
  role: string;
  groupId: string;
  apiKey: { id: string; key: string; scope: string; principalId: string };
}

describe('orchard admins add', () => {
  test.each([
    ['ok/a full administrator gets a write key', 'full', 'write'],
    ['ok/a read-only administrator gets a read key', 'read-only', 'read'],
  ])('%s', async (_name, role, scope) => {
    const r = await orchard('admins', 'add', '--name', 'Ann', '--role', role, '--group', 'sales');
    expect(r.code).toBe(0);
    const added = JSON.parse(r.out) as Added;
    expect(added).toMatchObject({
      role,
      groupId: 'sales',
      apiKey: { scope, principalId: added.id },
    });
    const key = await withStore((s) =>
      authenticate(s, `Bearer ${added.apiKey.key}`, scope === 'write' ? 'write' : 'read'),
    );
    expect(key.principalId).toBe(added.id);
    const audit = await withStore((s) => s.listAudit({ limit: 10 }));
    expect(audit.items.map((e) => `${e.action} ${e.target}`)).toEqual(
      expect.arrayContaining([`admin.create ${added.id}`, `api-key.create ${added.apiKey.id}`]),
    );
  });

  test.each([
    ['fail/an unknown role is misuse', ['--role', 'admin', '--group', 'sales'], 2, /--role/],
    ['fail/no group is misuse', ['--role', 'full'], 2, /--group/],
    ['fail/an unknown group is bad input', ['--role', 'full', '--group', 'nowhere'], 1, /nowhere/],
  ])('%s', async (_name, args, code, problem) => {
    const r = await orchard('admins', 'add', '--name', 'Bob', ...args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(problem);
    expect(r.out).toBe('');
  });
});

describe('orchard admins list', () => {
  test('ok/lists the owner and the administrators added, one JSON object a line', async () => {
    await orchard('admins', 'add', '--name', 'Cy', '--role', 'full', '--group', 'global');
    const r = await orchard('admins', 'list', '--json');
    expect(r.code).toBe(0);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; name: string });
    expect(rows.map((a) => a.id)).toContain('owner');
    expect(rows.map((a) => a.name)).toContain('Cy');
    expect(r.out).not.toContain('orch_');
  });
});

describe('orchard apikey create --admin', () => {
  let reader: string;

  beforeAll(async () => {
    const r = await orchard(
      'admins',
      'add',
      '--name',
      'Ro',
      '--role',
      'read-only',
      '--group',
      'sales',
    );
    reader = (JSON.parse(r.out) as Added).id;
  });

  test('ok/the key belongs to the administrator named', async () => {
    const r = await orchard('apikey', 'create', '--name', 'ci', '--admin', reader);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ scope: 'read', principalId: reader });
  });

  test('ok/without --admin the key is the owner’s', async () => {
    const r = await orchard('apikey', 'create', '--name', 'ops', '--scope', 'write');
    expect(JSON.parse(r.out)).toMatchObject({ principalId: 'owner' });
  });

  test.each([
    ['fail/a write key for a read-only administrator', () => reader, /ERR_ADMIN_READ_ONLY/],
    ['fail/an unknown administrator', () => 'adm_nobody', /no administrator adm_nobody/],
  ])('%s (exit 1, no key)', async (_name, admin, problem) => {
    const r = await orchard(
      'apikey',
      'create',
      '--name',
      'x',
      '--scope',
      'write',
      '--admin',
      admin(),
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(problem);
    expect(r.out).toBe('');
  });
});
