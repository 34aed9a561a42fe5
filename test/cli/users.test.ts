/**
 * `orchard users add|import|list`, run in-process on a SQLite database made for the test: a CSV
 * file is imported with a report per row (exit 1 when a row was refused), a second import
 * changes nothing, `--atomic` stores nothing when a row is refused, and an unreadable file, a
 * taken username or an unknown policy exits 1; a user's policy is shown by name and id.
 */
import { describe, expect, test } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseCli } from './database-cli.js';

const cli = databaseCli('orchard-users-cli-');
const { orchard, withStore } = cli;

/** Writes `text` to a file of the test directory and returns its path. */
function file(name: string, text: string): string {
  const path = join(cli.dir(), name);
  writeFileSync(path, text);
  return path;
}

const CSV = [
  'username,email,first_name,og,send_invite',
  'ann,ann@example.com,"Ann, the first",Sales,yes',
  'ben,ben@example.com,=cmd,,',
].join('\r\n');

describe('orchard users', () => {
  test('ok/import prints a row per line, a second run is unchanged, list shows them', async () => {
    const path = file('users.csv', `\uFEFF${CSV}\r\n`);
    const first = await orchard('users', 'import', path, '--group', 'sales');
    expect(first.code).toBe(0);
    expect(first.out).toContain('line 2 ann: created [invitation: send it from the API]');
    expect(first.out).toContain('created 2, updated 0, unchanged 0, refused 0');
    const second = await orchard('users', 'import', path, '--json');
    expect(second.code).toBe(0);
    expect(JSON.parse(second.out)).toMatchObject({ unchanged: 2, applied: true });
    const listed = (await orchard('users', 'list', '--group', 'sales')).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(listed.map((u) => [u.username, u.firstName]).sort()).toEqual([
      ['ann', 'Ann, the first'],
      ['ben', '=cmd'],
    ]);
    const actions = await withStore(async (s) =>
      (await s.listAudit({ limit: 5 })).items.map((e) => e.action),
    );
    expect(actions.slice(0, 2)).toEqual(['user.import', 'user.import']);
  });

  test('fail/a refused row exits 1; --atomic then stores nothing', async () => {
    const path = file('bad.csv', 'username,email\ncyd,cyd@example.com\ndee,not-mail\n');
    const atomic = await orchard('users', 'import', path, '--atomic', '--json');
    expect(atomic.code).toBe(1);
    expect(JSON.parse(atomic.out)).toMatchObject({ applied: false, refused: 2 });
    expect(await withStore((s) => s.findUserByUsername('cyd'))).toBeUndefined();
    const loose = await orchard('users', 'import', path);
    expect(loose.code).toBe(1);
    expect(loose.out).toContain('line 3 dee: refused (email is not an e-mail address)');
    expect(await withStore((s) => s.findUserByUsername('cyd'))).toBeDefined();
  });

  test.each([
    ['fail/unknown column', 'username,email,phone\n', /unknown columns "phone".*\[ERR_USER_CSV\]/],
    ['fail/not UTF-8', Buffer.from([0xff, 0xfe, 0x00]), /not UTF-8/],
  ])('%s exits 1', async (_name, text, problem) => {
    const r = await orchard('users', 'import', file('x.csv', text as string));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(problem);
  });

  test('ok/add prints the user; a taken username exits 1', async () => {
    const at = new Date();
    await withStore((s) =>
      s.createPolicy({
        id: 'pol_std',
        name: 'std',
        groupId: 'sales',
        createdAt: at,
        updatedAt: at,
      }),
    );
    const args = ['users', 'add', '--username', 'eve', '--email', 'eve@example.com'];
    const made = await orchard(...args, '--group', 'sales', '--policy', 'std', '--json');
    expect(made.code).toBe(0);
    expect(JSON.parse(made.out)).toMatchObject({
      username: 'eve',
      groupId: 'sales',
      policy: 'std',
      policyId: 'pol_std',
    });
    const unknown = await orchard(
      'users',
      'add',
      '--username',
      'fay',
      '--email',
      'f@x.example',
      '--policy',
      'gold',
    );
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.err).toMatch(/ERR_POLICY_UNKNOWN/);
    const again = await orchard(...args.map((a) => (a === 'eve' ? 'EVE' : a)));
    expect(again).toMatchObject({ code: 1 });
    expect(again.err).toMatch(/ERR_USERNAME_TAKEN/);
  });

  test('fail/a missing file exits 1; a missing option exits 2', async () => {
    expect((await orchard('users', 'import', join(cli.dir(), 'none.csv'))).code).toBe(1);
    expect((await orchard('users', 'add', '--username', 'x')).code).toBe(2);
  });
});
