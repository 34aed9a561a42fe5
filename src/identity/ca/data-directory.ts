/**
 * A server's data directory holds the database, the CA keys (see `openPkiDirectory`) and the
 * secrets key: it is created 0700, and an existing one with another mode is set to 0700 with a
 * log line. One that cannot be changed (another user owns it) refuses the start instead of
 * running readable by others.
 */
import { chmod as fsChmod, mkdir, stat } from 'node:fs/promises';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/** The file-system call {@link prepareDataDirectory} may fail on; injectable to test refusals. */
export interface DataDirectoryFs {
  chmod(path: string, mode: number): Promise<void>;
}

const MODE = 0o700;

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/**
 * Creates `dir` (and missing parents) with mode 0700, or sets an existing one to 0700, logging
 * when a looser mode was tightened. Throws ConfigError naming `--data-dir` and the directory when
 * it cannot be created, is not a directory, or its mode cannot be set.
 */
export async function prepareDataDirectory(
  dir: string,
  logger: Logger,
  fs: DataDirectoryFs = { chmod: fsChmod },
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: MODE });
  } catch (cause) {
    throw new ConfigError('--data-dir', `cannot create ${dir}: ${errorCode(cause)}`, { cause });
  }
  const info = await stat(dir);
  if (!info.isDirectory()) throw new ConfigError('--data-dir', `${dir} is not a directory`);
  const mode = info.mode & 0o777;
  if (mode === MODE) return;
  const from = `0${mode.toString(8)}`;
  try {
    await fs.chmod(dir, MODE);
  } catch (cause) {
    throw new ConfigError(
      '--data-dir',
      `${dir} is mode ${from} and cannot be set to 0700 (${errorCode(cause)}): run orchard as the directory's owner or fix its mode`,
      { cause },
    );
  }
  logger.warn({ dataDir: dir, from, to: '0700' }, 'data directory mode tightened');
}
