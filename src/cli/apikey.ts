/**
 * `orchard apikey create|list|revoke`: manage admin API keys in the daemon's database. A new key
 * is printed once on stdout and stored as its SHA-256; every change is written to the audit log.
 * `create` and `list` print JSON (one object per line) with or without `--json`; `revoke` prints a
 * sentence, or JSON with `--json`.
 */
import type { Command } from 'commander';
import { apiKeyView, createApiKey } from '../index.js';
import { cliActor, openAdminFromOptions, withAdminStore, withDatabaseOptions } from './admin-db.js';
import { createKeyFor } from './admins.js';
import { InputProblem, runAction, UsageProblem } from './input.js';

/** The database flags `withDatabaseOptions` adds. */
type DatabaseFlags = Parameters<typeof openAdminFromOptions>[0];
type Flags = DatabaseFlags & { json?: boolean };

async function create(
  opts: Flags & { name: string; scope: string; admin?: string },
): Promise<number> {
  if (opts.scope !== 'read' && opts.scope !== 'write')
    throw new UsageProblem('--scope must be read or write');
  const scope = opts.scope;
  return withAdminStore(opts, async (store) => {
    if (opts.admin !== undefined) {
      const created = await createKeyFor(store, opts.name, scope, opts.admin);
      process.stdout.write(`${JSON.stringify(created)}\n`);
      return 0;
    }
    const { record, key } = await createApiKey(store, opts.name, scope);
    await store.audit({
      actor: cliActor(),
      action: 'api-key.create',
      target: record.id,
      detail: { name: opts.name, scope },
    });
    process.stdout.write(`${JSON.stringify({ ...apiKeyView(record), key })}\n`);
    return 0;
  });
}

function revoke(id: string, opts: Flags): Promise<number> {
  return withAdminStore(opts, async (store) => {
    if (!(await store.revokeApiKey(id))) throw new InputProblem(`no active key ${id}`);
    await store.audit({ actor: cliActor(), action: 'api-key.revoke', target: id, detail: {} });
    process.stdout.write(
      opts.json === true ? `${JSON.stringify({ revoked: id })}\n` : `revoked ${id}\n`,
    );
    return 0;
  });
}

const JSON_ALWAYS = 'print JSON (what this command always prints; accepted for scripts)';

/** Registers `orchard apikey` on the program. */
export function registerApiKey(program: Command): void {
  const apikey = program.command('apikey').description('create, list and revoke admin API keys');
  const createCommand = withDatabaseOptions(
    apikey
      .command('create')
      .description('create a key (printed once) with read or write scope')
      .requiredOption('--name <name>', 'what the key is for')
      .option('--scope <scope>', 'read or write', 'read')
      .option('--admin <id>', 'the administrator it belongs to (default: the owner)')
      .option('--json', JSON_ALWAYS),
  ).action((opts: Flags & { name: string; scope: string; admin?: string }) =>
    runAction(createCommand, () => create(opts)),
  );
  const list = withDatabaseOptions(
    apikey
      .command('list')
      .description('list keys (never their secrets)')
      .option('--json', JSON_ALWAYS),
  ).action((opts: Flags) =>
    runAction(list, () =>
      withAdminStore(opts, async (store) => {
        for (const k of await store.listApiKeys())
          process.stdout.write(`${JSON.stringify(apiKeyView(k))}\n`);
        return 0;
      }),
    ),
  );
  const revokeCommand = withDatabaseOptions(
    apikey
      .command('revoke')
      .description('revoke a key by id')
      .argument('<id>')
      .option('--json', 'print {"revoked": id} instead of a sentence'),
  ).action((id: string, opts: Flags) => runAction(revokeCommand, () => revoke(id, opts)));
}
