/**
 * The daemon's node flags: added where absent, never over an operator's own value, and the same
 * in `npm start` as in the workers `orchard serve --workers` forks.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { DAEMON_NODE_FLAGS, withDaemonNodeFlags } from '../../src/daemon/node-flags.js';

describe('daemon node flags', () => {
  test('ok/added in front of execArgv when absent', () => {
    expect(withDaemonNodeFlags(['--enable-source-maps'])).toEqual([
      ...DAEMON_NODE_FLAGS,
      '--enable-source-maps',
    ]);
  });

  test("ok/an operator's own value wins, in execArgv or NODE_OPTIONS", () => {
    expect(withDaemonNodeFlags(['--min-semi-space-size=32'])).toEqual(['--min-semi-space-size=32']);
    expect(withDaemonNodeFlags([], '--max-old-space-size=512 --min-semi-space-size=4')).toEqual([]);
    expect(withDaemonNodeFlags([], '--max-old-space-size=512')).toEqual([...DAEMON_NODE_FLAGS]);
  });

  test('ok/npm start runs the daemon with them', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      scripts: Record<string, string>;
    };
    const start = pkg.scripts.start ?? '';
    expect(start).toMatch(/^node .*bin\/orchard serve$/);
    for (const flag of DAEMON_NODE_FLAGS) expect(start.split(' ')).toContain(flag);
  });
});
