/** Runs `bin/orchard` as a child process, as a user would, and collects its output. */
import { execFile } from 'node:child_process';

/** What one run of the CLI produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/orchard ...args` from the checkout root with only PATH in its environment (so
 * no `ORCHARD_*` variable of the caller leaks in) and resolves with its exit code and output.
 */
export function orchard(...args: string[]): Promise<CliResult> {
  return orchardWithEnv({}, ...args);
}

/** {@link orchard} with `env` (e.g. `ORCHARD_*` variables) added to PATH in its environment. */
export function orchardWithEnv(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/orchard', ...args],
      { maxBuffer: 16 << 20, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
