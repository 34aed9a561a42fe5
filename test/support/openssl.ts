/**
 * Runs the `openssl` CLI (OpenSSL 3.0 here) for interop tests: synchronous, with stdin input,
 * in a working folder; and temporary folders that tests write PEM/DER files into.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Outcome of one openssl run. */
export interface OpensslResult {
  status: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs `openssl ...args` and returns its exit status and output without throwing. */
export function runOpenssl(
  args: string[],
  options: { input?: Uint8Array | string; cwd?: string } = {},
): OpensslResult {
  const r = spawnSync('openssl', args, {
    cwd: options.cwd,
    input: options.input,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 20_000,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Runs `openssl ...args` and returns stdout; throws with openssl's stderr on a non-zero exit. */
export function openssl(
  args: string[],
  options: { input?: Uint8Array | string; cwd?: string } = {},
): Buffer {
  const r = runOpenssl(args, options);
  if (r.status !== 0)
    throw new Error(`openssl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A temporary folder: `path(name)` joins, `write` creates files, `read` reads, `remove` deletes it all. */
export interface TmpDir {
  dir: string;
  path(name: string): string;
  write(name: string, data: string | Uint8Array): string;
  read(name: string): Buffer;
  remove(): void;
}

/** Creates a fresh temporary folder under the OS temp dir. */
export function makeTmpDir(prefix = 'orchard-test-'): TmpDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    path: (name) => join(dir, name),
    write(name, data) {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    read: (name) => readFileSync(join(dir, name)),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
