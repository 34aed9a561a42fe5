/**
 * `orchard secrets rotate`: adds a new key to the secrets key file and re-seals every device
 * secret in the database under it, in one transaction. Safe while the daemon runs: it re-reads
 * the key file when it meets a value sealed with the new key. Prints JSON, with or without `--json`.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveDatabase, resolveSecretsKeyFile, type RawValues } from '../daemon/index.js';
import { ConfigError } from '../index.js';
import { OrchardError } from '../index.js';
import { rotateSecrets } from '../storage/sqlite/index.js';
import { withDatabaseOptions } from './admin-db.js';
import { attributeConfigError } from './config-errors.js';
import { InputProblem, runAction } from './input.js';

async function rotate(opts: RawValues): Promise<number> {
  try {
    const location = resolveDatabase(opts);
    if (location.kind === 'sqlite' && !existsSync(location.path))
      throw new ConfigError('--data-dir', `no database at ${location.path}`);
    const at = resolveSecretsKeyFile(opts);
    let result: Awaited<ReturnType<typeof rotateSecrets>>;
    if (location.kind === 'postgres') {
      const { rotatePostgresSecrets } = await import('../storage/postgres/index.js');
      result = await rotatePostgresSecrets(at, location.url);
    } else result = await rotateSecrets(at, location.path);
    process.stdout.write(`${JSON.stringify({ keyFile: at.path, ...result })}\n`);
    process.stderr.write(
      `orchard secrets rotate: key ${result.keyId} added to ${at.path}; back the key file up now (it still holds the old keys)\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) throw attributeConfigError(error, opts);
    // Anything else is about the key file or the stored secrets (a value that does not open).
    if (error instanceof OrchardError || !(error instanceof Error)) throw error;
    throw new InputProblem(error.message);
  }
}

/** Registers `orchard secrets` on the program. */
export function registerSecrets(program: Command): void {
  const secrets = program
    .command('secrets')
    .description(
      'the key sealing device secrets at rest (UnlockTokens, bootstrap tokens, commands)',
    );
  withDatabaseOptions(
    secrets
      .command('rotate')
      .description('add a new secrets key and re-seal every stored secret with it')
      .option(
        '--secrets-key-file <file>',
        'key file (default <data-dir>/secrets.key) [env ORCHARD_SECRETS_KEY_FILE]',
      )
      .option('--json', 'print JSON (what this command always prints; accepted for scripts)'),
  ).action((opts: RawValues, command: Command) => runAction(command, () => rotate(opts)));
}
