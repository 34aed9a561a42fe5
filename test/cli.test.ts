import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function orchard(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/orchard', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('bin/orchard', () => {
  test('ok/--help lists the subcommands', async () => {
    const r = await orchard('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/serve/);
  });

  test('fail/unknown subcommand exits 2 (misuse)', async () => {
    const r = await orchard('no-such-command');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
