/**
 * The Node.js flags the daemon runs best with. `--min-semi-space-size=8` starts V8's young
 * generation at 8 MB instead of node's 1 MB. Measured here on held daemons under keep-alive load
 * (windows of 20,000 signed idle check-ins, the floor measured between them): at the default 4 of
 * 5 daemons settled at 141-218 µs of CPU per check-in against the floor's 98-118 µs, with the flag
 * 8 of 10 at 104-122 µs; resident memory under load was 128 MB against 176 MB in one pair.
 * `npm start` and `orchard serve --workers` use them; run `node <flags> bin/orchard serve` (or set
 * NODE_OPTIONS) where you start the daemon yourself.
 */

/** The flags (see the module comment). */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=8'];

/**
 * `execArgv` with each of {@link DAEMON_NODE_FLAGS} whose option is not already given in it or in
 * `nodeOptions` (NODE_OPTIONS): an operator's own value wins.
 */
export function withDaemonNodeFlags(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map((a) => a.split('=')[0]);
  const missing = DAEMON_NODE_FLAGS.filter((f) => !given.includes(f.split('=')[0]));
  return [...missing, ...execArgv];
}
