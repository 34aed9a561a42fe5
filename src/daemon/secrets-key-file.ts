/**
 * The secrets key file of the daemon: generated 0600 in the data directory on first start, or
 * given with `--secrets-key-file` (then it must exist: instances sharing a key never diverge
 * silently). The keyring it yields re-reads the file when it meets a value sealed with a key it
 * does not hold, so `orchard secrets rotate` works while the daemon runs.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { chmod, link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import {
  addSecretsKey,
  createSecretsKeyring,
  decodeSecretsKeyFile,
  encodeSecretsKeyFile,
  generateSecretsKey,
  SecretsError,
  type Logger,
  type SecretsKeyring,
} from '../index.js';
import {
  createSqliteStorage,
  openSqliteDatabase,
  type ResealResult,
  type SqliteDatabase,
  type SqliteStorage,
  type SqliteStorageOptions,
} from '../storage/sqlite/index.js';
import type { DaemonConfig } from './config.js';
import { ConfigError } from './errors.js';
import { reloadingKeyring } from './reloading-keyring.js';

/** Where the key file is: `given` when it was named by `--secrets-key-file`. */
export interface SecretsKeyLocation {
  path: string;
  given: boolean;
}

/** What {@link openSecretsKeyFile} resolves. */
export interface SecretsKeyFile {
  path: string;
  keyring: SecretsKeyring;
  /** Whether this call generated the file (first start). */
  created: boolean;
}

const FLAG = '--secrets-key-file';

/** The daemon's key file: `--secrets-key-file`, else `<dataDir>/secrets.key`. */
export function secretsKeyLocation(
  config: Pick<DaemonConfig, 'dataDir' | 'secretsKeyFile'>,
): SecretsKeyLocation {
  return config.secretsKeyFile === undefined
    ? { path: join(config.dataDir, 'secrets.key'), given: false }
    : { path: config.secretsKeyFile, given: true };
}

function where(at: SecretsKeyLocation): string {
  return at.given ? at.path : `${at.path} (the default in the data directory)`;
}

function decodeOrRefuse(text: string, at: SecretsKeyLocation): SecretsKeyring {
  try {
    return decodeSecretsKeyFile(text);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(FLAG, `${where(at)}: ${message}`, { cause });
  }
}

async function readKeyFile(at: SecretsKeyLocation): Promise<string | undefined> {
  try {
    return await readFile(at.path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT' && !at.given) return undefined;
    throw new ConfigError(FLAG, `cannot read ${where(at)}: ${code}`, { cause });
  }
}

/** Writes `text` to a new file with mode 0600 whatever the umask; fails if it exists. */
async function writePrivate(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function generate(
  at: SecretsKeyLocation,
  logger: Logger,
  clock: () => Date,
): Promise<SecretsKeyFile | undefined> {
  const keyring = createSecretsKeyring([generateSecretsKey(1, { clock })]);
  // Written whole under a temporary name, then linked into place: a crash never leaves half a
  // key file, and of two first starts exactly one link wins.
  const tmp = temporaryName(at.path);
  try {
    await writePrivate(tmp, encodeSecretsKeyFile(keyring));
    await link(tmp, at.path);
  } catch (cause) {
    // Another process generated it first: use theirs.
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw new ConfigError(FLAG, `cannot create ${where(at)}`, { cause });
  } finally {
    await rm(tmp, { force: true });
  }
  logger.info(
    { keyFile: at.path, keyId: 1, fingerprint: keyring.fingerprint(1) },
    'secrets key generated: back it up, separately from the database',
  );
  return { path: at.path, keyring: reloadingKeyring(at.path, keyring, logger), created: true };
}

/** Tightens a looser default key file to 0600; a given one is the operator's: only warned about. */
async function checkMode(at: SecretsKeyLocation, logger: Logger): Promise<void> {
  const mode = (await stat(at.path)).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  const from = `0${mode.toString(8)}`;
  if (at.given) {
    logger.warn({ keyFile: at.path, mode: from }, 'secrets key file is readable by others');
    return;
  }
  try {
    await chmod(at.path, 0o600);
  } catch (cause) {
    throw new ConfigError(FLAG, `${where(at)} is mode ${from} and cannot be set to 0600`, {
      cause,
    });
  }
  logger.warn({ keyFile: at.path, from, to: '0600' }, 'secrets key file mode tightened');
}

/**
 * Opens the key file, generating it (mode 0600) when the default one is absent. Throws
 * ConfigError naming `--secrets-key-file` when a given file is missing or unreadable, or any
 * key file is malformed or cannot be written.
 */
export async function openSecretsKeyFile(
  at: SecretsKeyLocation,
  logger: Logger,
  clock: () => Date = () => new Date(),
): Promise<SecretsKeyFile> {
  const text = await readKeyFile(at);
  if (text === undefined) {
    const created = await generate(at, logger, clock);
    if (created !== undefined) return created;
    return openSecretsKeyFile(at, logger, clock);
  }
  const keyring = decodeOrRefuse(text, at);
  await checkMode(at, logger);
  return { path: at.path, keyring: reloadingKeyring(at.path, keyring, logger), created: false };
}

/** Deletes a key file this process generated, when the database refused it (nothing sealed). */
export async function discardGeneratedKeyFile(file: SecretsKeyFile): Promise<void> {
  if (file.created) await rm(file.path, { force: true });
}

/**
 * Opens the key file (generating it on first start) and the SQLite database (every store on one
 * connection; `storage` is `database.storage`) sealed with it. A key
 * that is not the one the database was sealed with is refused with ConfigError naming
 * `--secrets-key-file`; a key file generated by this call is then removed again.
 */
export async function openSealedStorage(
  at: SecretsKeyLocation,
  options: Omit<SqliteStorageOptions, 'secrets'>,
  logger: Logger,
): Promise<{ database: SqliteDatabase; storage: SqliteStorage; secrets: SecretsKeyFile }> {
  const secrets = await openSecretsKeyFile(at, logger);
  try {
    const database = openSqliteDatabase({ ...options, secrets: secrets.keyring });
    return { database, storage: database.storage, secrets };
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error;
    await discardGeneratedKeyFile(secrets);
    const hint = secrets.created
      ? `the database's device secrets are sealed with another key and ${at.path} was missing: restore the key file from its backup, or name it`
      : `${where(at)}: ${error.message}`;
    throw new ConfigError(FLAG, hint, { cause: error });
  }
}

/**
 * Adds a new current key to an existing key file, replacing the file atomically (a new 0600 file
 * renamed over it); the old keys stay to open what they sealed. Throws ConfigError naming
 * `--secrets-key-file` when the file is missing, malformed or cannot be replaced.
 */
export async function addKeyToFile(
  at: SecretsKeyLocation,
  clock: () => Date = () => new Date(),
): Promise<SecretsKeyring> {
  const text = await readKeyFile({ ...at, given: true });
  const next = addSecretsKey(decodeOrRefuse(text ?? '', at), { clock });
  const tmp = temporaryName(at.path);
  try {
    await writePrivate(tmp, encodeSecretsKeyFile(next));
    await rename(tmp, at.path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new ConfigError(FLAG, `cannot replace ${where(at)}`, { cause });
  }
  return next;
}

/** What {@link rotateSecrets} did. */
export interface RotationResult {
  keyId: number;
  fingerprint: string;
  resealed: ResealResult;
}

/**
 * `orchard secrets rotate`: checks the key file against the database, adds a new current key to
 * the file, then re-seals every stored secret under it in one transaction. Values stay readable
 * throughout: until the transaction commits they are under an older key, which the file keeps.
 * Throws ConfigError naming `--secrets-key-file` for a missing, malformed or mismatched key file.
 */
export async function rotateSecrets(
  at: SecretsKeyLocation,
  databasePath: string,
  clock: () => Date = () => new Date(),
): Promise<RotationResult> {
  const current = decodeOrRefuse((await readKeyFile({ ...at, given: true })) ?? '', at);
  const open = (secrets: SecretsKeyring): SqliteStorage => {
    try {
      return createSqliteStorage({ path: databasePath, secrets, lastSeenFlushMs: 0 });
    } catch (error) {
      if (!(error instanceof SecretsError)) throw error;
      throw new ConfigError(FLAG, `${where(at)}: ${error.message}`, { cause: error });
    }
  };
  // Refuse a key file that does not belong to this database before changing the file.
  await open(current).close();
  const next = await addKeyToFile(at, clock);
  const storage = open(next);
  try {
    const resealed = await storage.resealSecrets();
    const keyId = next.currentKeyId;
    return { keyId, fingerprint: next.fingerprint(keyId) ?? '', resealed };
  } finally {
    await storage.close();
  }
}

function temporaryName(path: string): string {
  return `${path}.${randomBytes(6).toString('hex')}.tmp`;
}
