/**
 * `orchard admins set-password`: the console password comes from stdin (never argv), must be
 * long enough, is audited, lets the administrator sign in, and ends its console sessions.
 */
import { describe, expect, jest, test } from '@jest/globals';
import { Readable } from 'node:stream';
import { createWebAccounts } from '../../src/admin/web-accounts.js';
import { createWebSessions } from '../../src/admin/web-sessions.js';
import { databaseCli } from './database-cli.js';

const { orchard, withStore } = databaseCli('orchard-admins-password-');

/** Runs the command with `input` on stdin. */
async function withStdin(input: string, ...args: string[]) {
  const stdin = jest
    .spyOn(process, 'stdin', 'get')
    .mockReturnValue(Readable.from([Buffer.from(input)]) as unknown as typeof process.stdin);
  try {
    return await orchard('admins', 'set-password', ...args);
  } finally {
    stdin.mockRestore();
  }
}

describe('orchard admins set-password', () => {
  test('ok/the owner gets a password from stdin, signs in with it, and old sessions end', async () => {
    const before = await withStore((s) =>
      createWebSessions({ store: s }).create('console', 'owner'),
    );
    const r = await withStdin('a console password\n', '--admin', 'owner');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ id: 'owner', passwordSet: true });
    expect(r.out).not.toContain('a console password');
    await withStore(async (s) => {
      const accounts = createWebAccounts({ store: s });
      const owner = await s.findPrincipal('owner');
      expect(
        (await accounts.signInAdmin(owner?.name ?? '', 'a console password'))?.principal.id,
      ).toBe('owner');
      expect(await s.findWebSession(before.session.idHash)).toBeUndefined();
      const audit = await s.listAudit({ limit: 5 });
      expect(audit.items.map((e) => `${e.action} ${e.target}`)).toContain(
        'admin.password.set owner',
      );
    });
  });

  test.each([
    ['fail/a short password is bad input', 'short\n', ['--admin', 'owner'], 1, /at least 12/],
    [
      'fail/an unknown administrator is bad input',
      'a long enough password',
      ['--admin', 'adm_x'],
      1,
      /adm_x/,
    ],
    ['fail/no --admin is misuse', 'a long enough password', [], 2, /--admin/],
  ])('%s', async (_name, input, args, code, problem) => {
    const r = await withStdin(input, ...args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(problem);
    expect(r.out).toBe('');
  });
});
