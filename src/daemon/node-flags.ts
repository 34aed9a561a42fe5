/**
 * The Node.js flags the daemon runs best with. `--min-semi-space-size=8` starts V8's young
 * generation at 8 MB instead of node's 1 MB, so more of a request's short-lived objects die
 * before a scavenge. Measured (issue 20, sixth pass; the check-in bench with the daemon and the
 * floor both at 8 MB, then both at 1 MB): command polls 442-475 µs of CPU each with it against
 * 479-492 without, idle check-ins the same either way (144-146 µs keep-alive). It once hid most
 * of a larger cost (the connection cap churning a Map per request, fixed since), when daemons
 * at the default settled at 141-218 µs per check-in against 104-122 µs with it.
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
