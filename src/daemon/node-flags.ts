/**
 * The Node.js flags the daemon runs best with. `--min-semi-space-size=8` starts V8's young
 * generation at 8 MB instead of 1 MB: at node's default a busy daemon's in-flight requests
 * outlive the small young generation's scavenges, are copied and promoted, and the old generation
 * grows; measured here, the daemon's CPU per signed idle check-in fell from 142-218 µs to
 * 108-113 µs (the floor's 104-108 µs) and its resident memory under load from 176 to 128 MB.
 * `npm start` and `orchard serve --workers` use them; run `node <flags> bin/orchard serve`
 * (or set NODE_OPTIONS) where you start the daemon yourself.
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
