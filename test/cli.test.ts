import { describe, expect, test } from '@jest/globals';
import { orchard } from './support/cli.js';

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
