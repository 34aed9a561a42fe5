/**
 * `orchard users add|import|list`: users of organization groups in the daemon's database,
 * offline, with the rules of the API (rule M9) and every change audited. `import` reads a CSV
 * file and prints a report per row; it exits 1 when a row was refused (with `--atomic`, nothing
 * was then stored) or the file cannot be imported. Invitations are not mailed offline: rows
 * asking for one are reported, to be sent from the API.
 */
import type { Command } from 'commander';
import type { AdminStorage } from '../index.js';
import {
  createGroupService,
  createUserService,
  type UserImportReport,
  type UserInput,
  type UserService,
} from '../management/index.js';
import { cliActor, openAdminFromOptions, withAdminStore, withDatabaseOptions } from './admin-db.js';
import { InputProblem, readInputFile, runAction } from './input.js';

type DatabaseFlags = Parameters<typeof openAdminFromOptions>[0];
type Flags = DatabaseFlags & { json?: boolean };
type AddFlags = Flags & {
  username: string;
  email: string;
  group?: string;
  firstName?: string;
  lastName?: string;
  policy?: string;
  managedAppleId?: string;
};
type ImportFlags = Flags & { atomic?: boolean; group?: string };
type ListFlags = Flags & { group?: string };

/** Runs `fn` with a user service on the database the flags name. */
function withUsers(
  options: DatabaseFlags,
  fn: (users: UserService, store: AdminStorage) => Promise<number>,
): Promise<number> {
  return withAdminStore(options, (store) => {
    const groups = createGroupService({ store, principals: store });
    return fn(createUserService({ store, groups }), store);
  });
}

async function add(opts: AddFlags): Promise<number> {
  const input: UserInput = {
    username: opts.username,
    email: opts.email,
    groupId: opts.group ?? 'global',
  };
  if (opts.firstName !== undefined) input.firstName = opts.firstName;
  if (opts.lastName !== undefined) input.lastName = opts.lastName;
  if (opts.policy !== undefined) input.policy = opts.policy;
  if (opts.managedAppleId !== undefined) input.managedAppleId = opts.managedAppleId;
  return withUsers(opts, async (users, store) => {
    const user = await users.create(input);
    await store.audit({
      actor: cliActor(),
      action: 'user.create',
      target: user.id,
      detail: { username: user.username, groupId: user.groupId },
    });
    process.stdout.write(`${JSON.stringify((await users.views([user]))[0])}\n`);
    return 0;
  });
}

/** The report as lines: one per row, then the counts. */
function reportLines(report: UserImportReport): string {
  const rows = report.rows.map(
    (r) =>
      `line ${String(r.line)} ${r.username || '(no username)'}: ${r.outcome}` +
      (r.reason === undefined ? '' : ` (${r.reason})`) +
      (r.sendInvite && r.outcome !== 'refused' ? ' [invitation: send it from the API]' : ''),
  );
  const { created, updated, unchanged, refused } = report;
  const counts = `created ${String(created)}, updated ${String(updated)}, unchanged ${String(unchanged)}, refused ${String(refused)}`;
  const tail = report.applied ? counts : `${counts}: nothing stored (--atomic)`;
  return `${[...rows, tail].join('\n')}\n`;
}

async function importFile(file: string, opts: ImportFlags): Promise<number> {
  const bytes = readInputFile(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputProblem(`cannot read ${file} (not UTF-8)`);
  }
  return withUsers(opts, async (users, store) => {
    const atomic = opts.atomic === true;
    const report = await users.importUsers(text, {
      atomic,
      ...(opts.group === undefined ? {} : { groupId: opts.group }),
    });
    const { created, updated, unchanged, refused, applied } = report;
    await store.audit({
      actor: cliActor(),
      action: 'user.import',
      target: opts.group ?? 'global',
      detail: { atomic, applied, created, updated, unchanged, refused, invited: 0 },
    });
    process.stdout.write(opts.json === true ? `${JSON.stringify(report)}\n` : reportLines(report));
    return report.refused > 0 ? 1 : 0;
  });
}

async function list(opts: ListFlags): Promise<number> {
  return withUsers(opts, async (users) => {
    let cursor: string | undefined;
    do {
      const page = await users.list({
        limit: 1000,
        ...(cursor === undefined ? {} : { cursor }),
        ...(opts.group === undefined ? {} : { groupId: opts.group }),
      });
      for (const u of await users.views(page.items)) process.stdout.write(`${JSON.stringify(u)}\n`);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return 0;
  });
}

const JSON_ALWAYS = 'print JSON (what this command always prints; accepted for scripts)';

/** Registers `orchard users` on the program. */
export function registerUsers(program: Command): void {
  const users = program
    .command('users')
    .description('add, import (CSV) and list users of organization groups');
  const addCommand = withDatabaseOptions(
    users
      .command('add')
      .description('add a user and print it')
      .requiredOption('--username <name>', 'unique; letters, digits and . _ @ + -')
      .requiredOption('--email <address>', 'where invitations go')
      .option('--group <id>', 'organization group the user belongs to (default: global)')
      .option('--first-name <name>', 'first name')
      .option('--last-name <name>', 'last name')
      .option('--policy <name>', 'policy assigned to the user')
      .option('--managed-apple-id <address>', 'Managed Apple Account')
      .option('--json', JSON_ALWAYS),
  ).action((opts: AddFlags) => runAction(addCommand, () => add(opts)));
  const importCommand = withDatabaseOptions(
    users
      .command('import')
      .description(
        'create or update users from a CSV file (username,email required); a report per row; exit 1 when a row was refused',
      )
      .argument('<file>', 'the CSV file (UTF-8, header row)')
      .option('--atomic', 'store every row or none')
      .option('--group <id>', 'group of new users whose row has no og (default: global)')
      .option('--json', 'print the report as JSON'),
  ).action((file: string, opts: ImportFlags) =>
    runAction(importCommand, () => importFile(file, opts)),
  );
  const listCommand = withDatabaseOptions(
    users
      .command('list')
      .description('list users, one JSON object per line')
      .option('--group <id>', 'only this group and the groups below it')
      .option('--json', JSON_ALWAYS),
  ).action((opts: ListFlags) => runAction(listCommand, () => list(opts)));
}
