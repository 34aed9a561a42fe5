/**
 * `orchard apikey create|list|revoke`: manage admin API keys in the daemon's database. A new key
 * is printed once on stdout and stored as its SHA-256; every change is written to the audit log.
 * `create` and `list` print JSON (one object per line) with or without `--json`; `revoke` prints a
 * sentence, or JSON with `--json`.
 */
import type { Command } from 'commander';
import { apiKeyView, createApiKey, type AdminStorage } from '../index.js';
import { cliActor, openAdminFromOptions, withDatabaseOptions } from './admin-db.js';
import { InputProblem, runAction, UsageProblem } from './input.js';

/** The database flags `withDatabaseOptions` adds. */
type DatabaseFlags = Parameters<typeof openAdminFromOptions>[0];
type Flags = DatabaseFlags & { json?: boolean };

function withStore(options: DatabaseFlags, fn: (store: AdminStorage) => number): number {
  const store = openAdminFromOptions(options);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function create(opts: Flags & { name: string; scope: string }): number {
  if (opts.scope !== 'read' && opts.scope !== 'write')
    throw new UsageProblem('--scope must be read or write');
  const scope = opts.scope;
  return withStore(opts, (store) => {
    const { record, key } = createApiKey(store, opts.name, scope);
    store.audit({
      actor: cliActor(),
      action: 'api-key.create',
      target: record.id,
      detail: { name: opts.name, scope },
    });
    process.stdout.write(`${JSON.stringify({ ...apiKeyView(record), key })}\n`);
    return 0;
  });
}

function revoke(id: string, opts: Flags): number {
  return withStore(opts, (store) => {
    if (!store.revokeApiKey(id)) throw new InputProblem(`no active key ${id}`);
    store.audit({ actor: cliActor(), action: 'api-key.revoke', target: id, detail: {} });
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
      .option('--json', JSON_ALWAYS),
  ).action((opts: Flags & { name: string; scope: string }) =>
    runAction(createCommand, () => create(opts)),
  );
  const list = withDatabaseOptions(
    apikey
      .command('list')
      .description('list keys (never their secrets)')
      .option('--json', JSON_ALWAYS),
  ).action((opts: Flags) =>
    runAction(list, () =>
      withStore(opts, (store) => {
        for (const k of store.listApiKeys())
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
