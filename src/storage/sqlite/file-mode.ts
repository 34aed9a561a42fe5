/**
 * Modes of the SQLite files, set explicitly so the umask does not decide who can read device
 * data: the database is created (or tightened) before the driver opens it, and its `-wal`,
 * `-shm` and `-journal` companions, which SQLite creates lazily, are set again after open and
 * after the first write.
 */
import { chmodSync, closeSync, fchmodSync, fstatSync, openSync } from 'node:fs';
import { StorageError } from '../../errors.js';

const COMPANIONS = ['-wal', '-shm', '-journal'];

/** Whether `path` names a file on disk (not `:memory:`, an empty temp database or a URI). */
export function isFilePath(path: string): boolean {
  return path !== ':memory:' && path !== '' && !path.startsWith('file:');
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/**
 * Creates the database file with `mode` when absent, or sets an existing one to `mode`. Throws
 * StorageError naming the file when its mode cannot be set (e.g. another user owns it).
 */
export function prepareDatabaseFile(path: string, mode: number): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a', mode);
    if ((fstatSync(fd).mode & 0o777) !== mode) fchmodSync(fd, mode);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    // The driver reports a missing folder or a directory in its own words.
    if (code === 'ENOENT' || code === 'EISDIR') return;
    throw new StorageError(`cannot set mode ${octal(mode)} on SQLite database ${path}`, { cause });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Sets `mode` on the database's `-wal`, `-shm` and `-journal` files that exist. */
export function setCompanionModes(path: string, mode: number): void {
  for (const suffix of COMPANIONS) {
    try {
      chmodSync(path + suffix, mode);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new StorageError(`cannot set mode ${octal(mode)} on ${path}${suffix}`, { cause });
    }
  }
}
