/**
 * The daemon's one entry, for the CLI: `startDaemon` and the configuration of `orchard serve`
 * (flags, their `ORCHARD_*` variables, and the paths the offline subcommands resolve). Not part
 * of the library API.
 */
export { startDaemon } from './daemon.js';
export {
  isOrchardWorker,
  joinCluster,
  leaveCluster,
  superviseWorkers,
  workerRateLimit,
  workerRole,
  WORKER_INDEX_ENV,
} from './cluster.js';
export type { Supervisor, SupervisorOptions } from './cluster.js';
export { clusterMetricsResponder } from './cluster-metrics.js';
export { DAEMON_NODE_FLAGS, withDaemonNodeFlags } from './node-flags.js';
export type { RunningDaemon, StartOptions } from './daemon.js';
export { envName, FLAGS, resolveConfig, resolveDatabase, resolveSecretsKeyFile } from './config.js';
export type { DaemonConfig, FlagSpec, RawValues } from './config.js';
