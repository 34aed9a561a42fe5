/**
 * `orchard serve`: the reference daemon. Every flag has an `ORCHARD_*` variable; invalid
 * configuration exits 2 naming the flag, or the variable when the value came from there; SIGTERM
 * and SIGINT drain in-flight requests and exit 0.
 */
import { Option, type Command } from 'commander';
import { FLAGS, envName, resolveConfig, type RawValues } from '../daemon/index.js';
import { startDaemon } from '../daemon/index.js';
import { ConfigError } from '../index.js';
import { OrchardError } from '../index.js';
import { attributeConfigError } from './config-errors.js';
import { EXIT_INPUT, EXIT_USAGE } from './exit-codes.js';
import { usageLines } from './input.js';
import { pino } from 'pino';
import {
  isOrchardWorker,
  joinCluster,
  leaveCluster,
  superviseWorkers,
  clusterMetricsResponder,
  workerRole,
  type DaemonConfig,
} from '../daemon/index.js';

/**
 * Ignores further SIGTERM and SIGINT while draining: with `--workers` a service manager or a
 * terminal signals the whole process group, so each process gets the signal twice (from there
 * and from the primary), and the second must not cut the drain short.
 */
function ignoreRepeatedSignals(): void {
  const ignore = (): void => undefined;
  process.on('SIGTERM', ignore);
  process.on('SIGINT', ignore);
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/**
 * The primary of `--workers N`: supervises the workers until SIGTERM or SIGINT (then drains them
 * and exits 0), or until the first worker fails to start (its exit code).
 */
async function supervise(config: DaemonConfig): Promise<void> {
  const logger = pino(
    { level: config.logLevel, base: { service: 'orchard', component: 'cluster' } },
    process.stdout,
  );
  const supervisor = superviseWorkers({ workers: config.workers, logger });
  const outcome = await Promise.race([waitForSignal(), supervisor.failed]);
  ignoreRepeatedSignals();
  await supervisor.stop();
  if (typeof outcome === 'number') {
    process.exitCode = outcome;
    return;
  }
  logger.info({}, 'stopped');
  process.exitCode = 0;
}

async function run(values: RawValues, command: Command): Promise<void> {
  await serve(values, command);
  if (isOrchardWorker()) leaveCluster();
}

async function serve(values: RawValues, command: Command): Promise<void> {
  let config;
  try {
    config = resolveConfig(values);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(usageLines(command, attributeConfigError(error, values).message));
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (config.workers > 1 && !isOrchardWorker()) {
    await supervise(config);
    return;
  }
  const worker = isOrchardWorker();
  let daemon;
  try {
    // Workers take the whole --rate-limit each: the SQLite file's shared buckets hold it in all.
    daemon = worker
      ? await startDaemon(config, { role: workerRole(), metricsResponder: clusterMetricsResponder })
      : await startDaemon(config);
  } catch (error) {
    const flag = error instanceof ConfigError ? '' : ' (see --data-dir, --database, --listen)';
    const named = error instanceof ConfigError ? attributeConfigError(error, values) : error;
    const message = named instanceof Error ? named.message : String(named);
    process.stderr.write(`orchard serve: cannot start: ${message}${flag}\n`);
    process.exitCode =
      error instanceof ConfigError || error instanceof OrchardError ? EXIT_USAGE : EXIT_INPUT;
    return;
  }
  if (worker) joinCluster(daemon.port, daemon);
  await waitForSignal();
  if (worker) ignoreRepeatedSignals();
  await daemon.close();
  process.exitCode = 0;
}

/** Registers `orchard serve` on the program. */
export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .description('run the MDM daemon (enrollment, check-in, SCEP, APNs, admin API)');
  for (const flag of FLAGS) {
    const option = new Option(
      `--${flag.name}${flag.arg === undefined ? '' : ` <${flag.arg.toLowerCase()}>`}`,
      `${flag.description} [env ${envName(flag.name)}]`,
    );
    command.addOption(option);
  }
  command.action((opts: RawValues) => run(opts, command));
}
