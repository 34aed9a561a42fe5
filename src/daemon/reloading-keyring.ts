/**
 * A keyring that follows its key file: when asked to open a value sealed with a key it does not
 * hold (another process ran `orchard secrets rotate`), it re-reads the file and retries.
 */
import { readFileSync, statSync } from 'node:fs';
import { decodeSecretsKeyFile, SecretsError, type Logger, type SecretsKeyring } from '../index.js';

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
