/**
 * `orchard secrets rotate`: adds a new key to the secrets key file and re-seals every device
 * secret in the database under it, in one transaction. Safe while the daemon runs: it re-reads
 * the key file when it meets a value sealed with the new key.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveDatabasePath, resolveSecretsKeyFile, type RawValues } from '../daemon/config.js';
import { ConfigError } from '../daemon/errors.js';
import { rotateSecrets } from '../daemon/secrets-key-file.js';
import { withDatabaseOptions } from './admin-db.js';
import { EXIT_INPUT, EXIT_USAGE } from './exit-codes.js';

async function rotate(opts: RawValues): Promise<void> {
  try {
    const databasePath = resolveDatabasePath(opts);
    if (!existsSync(databasePath))
      throw new ConfigError('--data-dir', `no database at ${databasePath}`);
    const at = resolveSecretsKeyFile(opts);
    const result = await rotateSecrets(at, databasePath);
    process.stdout.write(`${JSON.stringify({ keyFile: at.path, ...result })}\n`);
    process.stderr.write(
      `orchard secrets rotate: key ${result.keyId} added to ${at.path}; back the key file up now (it still holds the old keys)\n`,
    );
  } catch (error) {
    process.stderr.write(
      `orchard secrets rotate: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = error instanceof ConfigError ? EXIT_USAGE : EXIT_INPUT;
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
      ),
  ).action((opts: RawValues) => rotate(opts));
}
