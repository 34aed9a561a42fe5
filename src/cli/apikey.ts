/**
 * `orchard apikey create|list|revoke`: manage admin API keys in the daemon's database. A new key
 * is printed once on stdout and stored as its SHA-256; every change is written to the audit log.
 */
import type { Command } from 'commander';
import type { AdminStore } from '../daemon/admin-store.js';
import { apiKeyView } from '../daemon/admin-views.js';
import { createApiKey } from '../daemon/api-keys.js';
import { ConfigError } from '../daemon/errors.js';
import type { RawValues } from '../daemon/config.js';
import { cliActor, openAdminFromOptions, withDatabaseOptions } from './admin-db.js';
import { EXIT_INPUT, EXIT_USAGE } from './exit-codes.js';

function withStore(options: RawValues, fn: (store: AdminStore) => void): void {
  let store: AdminStore;
  try {
    store = openAdminFromOptions(options);
  } catch (error) {
    process.stderr.write(
      `orchard apikey: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = error instanceof ConfigError ? EXIT_USAGE : EXIT_INPUT;
    return;
  }
  try {
    fn(store);
  } finally {
    store.close();
  }
}

/** Registers `orchard apikey` on the program. */
export function registerApiKey(program: Command): void {
  const apikey = program.command('apikey').description('create, list and revoke admin API keys');
  withDatabaseOptions(
    apikey
      .command('create')
      .description('create a key (printed once) with read or write scope')
      .requiredOption('--name <name>', 'what the key is for')
      .option('--scope <scope>', 'read or write', 'read'),
  ).action((opts: RawValues & { name: string; scope: string }) => {
    if (opts.scope !== 'read' && opts.scope !== 'write') {
      process.stderr.write('orchard apikey create: --scope must be read or write\n');
      process.exitCode = EXIT_USAGE;
      return;
    }
    const scope = opts.scope;
    withStore(opts, (store) => {
      const { record, key } = createApiKey(store, opts.name, scope);
      store.audit({
        actor: cliActor(),
        action: 'api-key.create',
        target: record.id,
        detail: { name: opts.name, scope },
      });
      process.stdout.write(`${JSON.stringify({ ...apiKeyView(record), key })}\n`);
    });
  });
  withDatabaseOptions(apikey.command('list').description('list keys (never their secrets)')).action(
    (opts: RawValues) => {
      withStore(opts, (store) => {
        for (const k of store.listApiKeys())
          process.stdout.write(`${JSON.stringify(apiKeyView(k))}\n`);
      });
    },
  );
  withDatabaseOptions(
    apikey.command('revoke').description('revoke a key by id').argument('<id>'),
  ).action((id: string, opts: RawValues) => {
    withStore(opts, (store) => {
      if (!store.revokeApiKey(id)) {
        process.stderr.write(`orchard apikey revoke: no active key ${id}\n`);
        process.exitCode = EXIT_INPUT;
        return;
      }
      store.audit({ actor: cliActor(), action: 'api-key.revoke', target: id, detail: {} });
      process.stdout.write(`revoked ${id}\n`);
    });
  });
}
