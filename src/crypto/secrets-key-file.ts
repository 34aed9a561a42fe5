/**
 * The secrets key file: generated 0600 in the data directory on first start, or given with
 * `--secrets-key-file` (then it must exist: instances sharing a key never diverge silently). The
 * keyring it yields re-reads the file when it meets a value sealed with a key it does not hold,
 * so `orchard secrets rotate` works while a server runs. Refusals are ConfigErrors naming
 * `--secrets-key-file`.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { chmod, link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { ConfigError, SecretsError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  addSecretsKey,
  createSecretsKeyring,
  decodeSecretsKeyFile,
  encodeSecretsKeyFile,
  generateSecretsKey,
  type SecretsKeyring,
} from './secrets-key.js';

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

/** The key file: `secretsKeyFile` (`--secrets-key-file`), else `<dataDir>/secrets.key`. */
export function secretsKeyLocation(config: {
  dataDir: string;
  secretsKeyFile?: string | undefined;
}): SecretsKeyLocation {
  return config.secretsKeyFile === undefined
    ? { path: join(config.dataDir, 'secrets.key'), given: false }
    : { path: config.secretsKeyFile, given: true };
}

/** How a refusal names the key file. */
export function keyFileWhere(at: SecretsKeyLocation): string {
  return at.given ? at.path : `${at.path} (the default in the data directory)`;
}

/** Decodes a key file's text; throws ConfigError naming `--secrets-key-file` when malformed. */
export function decodeKeyFile(text: string, at: SecretsKeyLocation): SecretsKeyring {
  try {
    return decodeSecretsKeyFile(text);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(FLAG, `${keyFileWhere(at)}: ${message}`, { cause });
  }
}

/**
 * Reads the key file's text; `undefined` when a default (not given) file is absent. Throws
 * ConfigError naming `--secrets-key-file` when it cannot be read.
 */
export async function readKeyFile(at: SecretsKeyLocation): Promise<string | undefined> {
  try {
    return await readFile(at.path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT' && !at.given) return undefined;
    throw new ConfigError(FLAG, `cannot read ${keyFileWhere(at)}: ${code}`, { cause });
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
    throw new ConfigError(FLAG, `cannot create ${keyFileWhere(at)}`, { cause });
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
    throw new ConfigError(FLAG, `${keyFileWhere(at)} is mode ${from} and cannot be set to 0600`, {
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
  const keyring = decodeKeyFile(text, at);
  await checkMode(at, logger);
  return { path: at.path, keyring: reloadingKeyring(at.path, keyring, logger), created: false };
}

/** Deletes a key file this process generated, when the database refused it (nothing sealed). */
export async function discardGeneratedKeyFile(file: SecretsKeyFile): Promise<void> {
  if (file.created) await rm(file.path, { force: true });
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
  const next = addSecretsKey(decodeKeyFile(text ?? '', at), { clock });
  const tmp = temporaryName(at.path);
  try {
    await writePrivate(tmp, encodeSecretsKeyFile(next));
    await rename(tmp, at.path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new ConfigError(FLAG, `cannot replace ${keyFileWhere(at)}`, { cause });
  }
  return next;
}

function temporaryName(path: string): string {
  return `${path}.${randomBytes(6).toString('hex')}.tmp`;
}

function fileVersion(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/**
 * A keyring over `initial` that, when asked to open a value sealed with a key it does not hold,
 * re-reads the key file once per change of the file and retries. The reloaded file must keep
 * every key already known (same fingerprints), or it is ignored with an error log.
 */
export function reloadingKeyring(
  path: string,
  initial: SecretsKeyring,
  logger: Logger,
): SecretsKeyring {
  let inner = initial;
  let version = fileVersion(path);
  const reload = (): boolean => {
    const now = fileVersion(path);
    if (now === undefined || now === version) return false;
    version = now;
    try {
      const next = decodeSecretsKeyFile(readFileSync(path, 'utf8'));
      const lost = inner.keyIds.filter((id) => next.fingerprint(id) !== inner.fingerprint(id));
      if (lost.length > 0) {
        logger.error({ keyFile: path, keyIds: lost }, 'secrets key file changed its keys; ignored');
        return false;
      }
      inner = next;
      logger.info({ keyFile: path, keyId: next.currentKeyId }, 'secrets key file reloaded');
      return true;
    } catch (error) {
      logger.error({ keyFile: path, err: String(error) }, 'secrets key file reload failed');
      return false;
    }
  };
  return {
    get currentKeyId() {
      return inner.currentKeyId;
    },
    get keyIds() {
      return inner.keyIds;
    },
    seal: (purpose, enrollmentId, plaintext) => inner.seal(purpose, enrollmentId, plaintext),
    open(purpose, enrollmentId, sealed) {
      try {
        return inner.open(purpose, enrollmentId, sealed);
      } catch (error) {
        const unknown = error instanceof SecretsError && error.code === 'ERR_SECRET_UNKNOWN_KEY';
        if (!unknown || !reload()) throw error;
        return inner.open(purpose, enrollmentId, sealed);
      }
    },
    keyIdOf: (sealed) => inner.keyIdOf(sealed),
    fingerprint: (keyId) => inner.fingerprint(keyId),
    exportKeys: () => inner.exportKeys(),
  };
}
