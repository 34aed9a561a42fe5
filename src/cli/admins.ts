/**
 * `orchard admins add|list|set-password`: administrators (a role and an organization-group
 * scope) in the daemon's database, offline. `add` creates one and a first API key for it, printed
 * once (write scope for a full administrator, read for a read-only one); `set-password` sets the
 * console password read from stdin (never from argv); every change is audited. They print JSON,
 * one object per line, with or without `--json`.
 */
import type { Command } from 'commander';
import {
  adminView,
  apiKeyView,
  checkKeyScope,
  createApiKey,
  createWebAccounts,
  passwordProblem,
  type AdminRole,
  type AdminStorage,
  type ApiKeyJson,
  type ApiKeyScope,
} from '../index.js';
import { cliActor, openAdminFromOptions, withAdminStore, withDatabaseOptions } from './admin-db.js';
import { InputProblem, runAction, UsageProblem } from './input.js';

type DatabaseFlags = Parameters<typeof openAdminFromOptions>[0];
type Flags = DatabaseFlags & { json?: boolean };
type AddFlags = Flags & { name: string; role: string; group: string; keyName?: string };
type PasswordFlags = Flags & { admin: string };

/** The most a password on stdin may be (bytes); more is refused, not read on. */
const STDIN_LIMIT = 64 * 1024;

/** Reads the password from stdin: everything up to EOF, without one trailing newline. */
export async function readPasswordFromStdin(
  input: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > STDIN_LIMIT) throw new InputProblem('the password on stdin is too long');
    chunks.push(bytes);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function setPassword(opts: PasswordFlags): Promise<number> {
  const password = await readPasswordFromStdin();
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new InputProblem(`${problem} (read from stdin)`);
  return withAdminStore(opts, async (store) => {
    const admin = await store.findPrincipal(opts.admin);
    if (admin === undefined) throw new InputProblem(`no administrator ${opts.admin}`);
    await createWebAccounts({ store }).setAdminPassword(admin.id, password);
    await store.audit({
      actor: cliActor(),
      action: 'admin.password.set',
      target: admin.id,
      detail: {},
    });
    process.stdout.write(`${JSON.stringify({ ...adminView(admin), passwordSet: true })}\n`);
    return 0;
  });
}

/**
 * Creates a key of `scope` for the administrator `adminId` and audits it. Throws InputProblem
 * for an unknown administrator, ManagementError `ERR_ADMIN_DISABLED` or `ERR_ADMIN_READ_ONLY`
 * when it may not hold such a key.
 */
export async function createKeyFor(
  store: AdminStorage,
  name: string,
  scope: ApiKeyScope,
  adminId: string,
): Promise<ApiKeyJson & { key: string }> {
  const admin = await store.findPrincipal(adminId);
  if (admin === undefined) throw new InputProblem(`no administrator ${adminId}`);
  checkKeyScope(admin, scope);
  const { record, key } = await createApiKey(store, name, scope, admin.id);
  await store.audit({
    actor: cliActor(),
    action: 'api-key.create',
    target: record.id,
    detail: { name, scope, principalId: admin.id },
  });
  return { ...apiKeyView(record), key };
}

function roleOf(value: string): AdminRole {
  if (value !== 'full' && value !== 'read-only')
    throw new UsageProblem('--role must be full or read-only');
  return value;
}

async function add(opts: AddFlags): Promise<number> {
  const role = roleOf(opts.role);
  return withAdminStore(opts, async (store) => {
    if ((await store.findGroup(opts.group)) === undefined)
      throw new InputProblem(`no organization group ${opts.group}`);
    const admin = await store.createPrincipal({ name: opts.name, role, groupId: opts.group });
    await store.audit({
      actor: cliActor(),
      action: 'admin.create',
      target: admin.id,
      detail: { name: admin.name, role, groupId: admin.groupId },
    });
    const scope = role === 'full' ? 'write' : 'read';
    const apiKey = await createKeyFor(store, opts.keyName ?? opts.name, scope, admin.id);
    process.stdout.write(`${JSON.stringify({ ...adminView(admin), apiKey })}\n`);
    return 0;
  });
}

const JSON_ALWAYS = 'print JSON (what this command always prints; accepted for scripts)';

/** Registers `orchard admins` on the program. */
export function registerAdmins(program: Command): void {
  const admins = program
    .command('admins')
    .description(
      'add and list administrators (a role and an organization-group scope), set their console passwords',
    );
  const addCommand = withDatabaseOptions(
    admins
      .command('add')
      .description('add an administrator and print it with its first API key (shown once)')
      .requiredOption('--name <name>', 'who the administrator is')
      .requiredOption('--role <role>', 'full or read-only')
      .requiredOption('--group <id>', 'organization group its scope starts at (global: all)')
      .option('--key-name <name>', 'name of its first API key (default: --name)')
      .option('--json', JSON_ALWAYS),
  ).action((opts: AddFlags) => runAction(addCommand, () => add(opts)));
  const password = withDatabaseOptions(
    admins
      .command('set-password')
      .description(
        "set an administrator's console password, read from stdin (e.g. a pipe); ends its console sessions",
      )
      .requiredOption('--admin <id>', 'the administrator (owner for the owner)')
      .option('--json', JSON_ALWAYS),
  ).action((opts: PasswordFlags) => runAction(password, () => setPassword(opts)));
  const list = withDatabaseOptions(
    admins
      .command('list')
      .description('list administrators, disabled ones too')
      .option('--json', JSON_ALWAYS),
  ).action((opts: Flags) =>
    runAction(list, () =>
      withAdminStore(opts, async (store) => {
        for (const p of await store.listPrincipals())
          process.stdout.write(`${JSON.stringify(adminView(p))}\n`);
        return 0;
      }),
    ),
  );
}
