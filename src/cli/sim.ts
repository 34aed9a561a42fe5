/**
 * `orchard sim`: a fleet of simulated devices against a running daemon (`--url`, `--api-key`) or,
 * with `--demo`, against a daemon, push identity and APNs endpoint started in this process. It
 * prints a progress line on stderr while it runs and the summary at the end (`--json`: one
 * object on stdout). Exit 0 when every device enrolled without errors, 1 otherwise, 2 on misuse.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  createFleet,
  createKeyPool,
  createSimApns,
  createSimDevice,
  DEFAULT_OS_MIX,
  formatSummary,
  parseOsMix,
  type Fleet,
  type FleetSummary,
  type OsMixEntry,
  type SimApns,
  type SimPemPair,
} from '../sim/index.js';
import { DEFAULT_DAEMON_URL } from './command.js';
import { InputProblem, runAction, UsageProblem } from './input.js';
import { simAdminApi, type SimAdminApi } from './sim-api.js';
import { startSimDemo } from './sim-demo.js';

interface SimOptions {
  url?: string;
  apiKey?: string;
  demo?: boolean;
  devices: string;
  concurrency: string;
  osMix?: string;
  interval?: string;
  duration?: string;
  apnsPort?: string;
  apnsDir?: string;
  json?: boolean;
  notNowRate?: string;
  errorRate?: string;
  userChannels?: boolean;
}

/** The parsed options of one run. */
interface SimPlan {
  devices: number;
  concurrency: number;
  osMix: readonly OsMixEntry[];
  intervalMs: number;
  durationMs: number;
  json: boolean;
  notNowRate: number;
  errorRate: number;
  userChannels: boolean;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const KEY_POOL = 32;
/** Polls (of 50 ms) for command results after queueing, per device and at least: a count, not a deadline. */
const RESULT_POLLS = { base: 200, perDevice: 2 };

function count(flag: string, value: string, max = 1_000_000): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    throw new UsageProblem(`${flag}: expected a whole number from 1 to ${max}, got '${value}'`);
  return n;
}

function duration(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^(\d{1,7})(ms|s|m|h)$/.exec(value);
  if (m === null)
    throw new UsageProblem(`${flag}: expected a duration such as 30s, 5m or 1h, got '${value}'`);
  return Number(m[1]) * (UNITS[m[2] ?? ''] ?? 0);
}

function rate(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || n > 1)
    throw new UsageProblem(`${flag}: expected a rate from 0 to 1 such as 0.1, got '${value}'`);
  return n;
}

function planOf(opts: SimOptions): SimPlan {
  let osMix: readonly OsMixEntry[] = DEFAULT_OS_MIX;
  try {
    if (opts.osMix !== undefined) osMix = parseOsMix(opts.osMix);
  } catch (error) {
    throw new UsageProblem(`--os-mix: ${(error as Error).message}`);
  }
  return {
    devices: count('--devices', opts.devices),
    concurrency: count('--concurrency', opts.concurrency, 10_000),
    osMix,
    intervalMs: duration('--interval', opts.interval, 60_000),
    durationMs: duration('--duration', opts.duration, 0),
    json: opts.json === true,
    notNowRate: rate('--not-now-rate', opts.notNowRate),
    errorRate: rate('--error-rate', opts.errorRate),
    userChannels: opts.userChannels === true,
  };
}

/** Queues DeviceInformation to the fleet's devices and waits until each has answered. */
async function exercise(fleet: Fleet, api: SimAdminApi): Promise<void> {
  const answered = (): number => Object.values(fleet.summary().commands).reduce((a, b) => a + b, 0);
  if (fleet.devices.length === 0) return;
  const ids = await api.enrollmentIdsOf(
    new Set(fleet.devices.map((d) => d.enrollmentId ?? d.udid)),
  );
  const target = answered() + ids.length;
  await api.sendCommand(ids, { RequestType: 'DeviceInformation', Queries: ['DeviceName'] });
  const polls = RESULT_POLLS.base + RESULT_POLLS.perDevice * ids.length;
  for (let i = 0; i < polls && answered() < target; i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  await fleet.settled();
  if (answered() < target)
    fleet.error(`only ${answered()} of ${target} commands answered (pushes lost?)`);
}

async function runPlan(
  plan: SimPlan,
  api: SimAdminApi,
  apns: SimApns | undefined,
  hook: (f: Fleet) => void,
) {
  const keys = await createKeyPool(Math.min(plan.devices, KEY_POOL));
  const fleet = createFleet({
    devices: plan.devices,
    concurrency: plan.concurrency,
    osMix: plan.osMix,
    enrollmentUrl: () => api.mintEnrollmentUrl(),
    createDevice: createSimDevice,
    deviceOptions: {
      keys,
      behaviour: { notNowRate: plan.notNowRate, errorRate: plan.errorRate },
    },
    userChannels: plan.userChannels,
    ...(apns === undefined ? {} : { apns }),
    intervalMs: plan.intervalMs,
    durationMs: plan.durationMs,
    afterEnroll: (f) => exercise(f, api),
    onProgress: (line) => process.stderr.write(`orchard sim: ${line}\n`),
  });
  hook(fleet);
  return fleet.run();
}

function print(plan: SimPlan, summary: FleetSummary): number {
  process.stdout.write(plan.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  return summary.enrolled === summary.devices && summary.errors.count === 0 ? 0 : 1;
}

async function runDemo(plan: SimPlan): Promise<number> {
  let fleet: Fleet | undefined;
  const demo = await startSimDemo((token) => fleet?.push(token));
  // Ctrl-C still removes the temporary data directory.
  const interrupted = (): void => {
    void demo.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  try {
    const api = simAdminApi(demo.url, demo.apiKey);
    return print(plan, await runPlan(plan, api, demo.apns, (f) => (fleet = f)));
  } finally {
    process.off('SIGINT', interrupted);
    await demo.close();
  }
}

const CA_FILES = ['apns-ca.pem', 'apns-ca.key'] as const;

/** The APNs CA saved in `dir` by an earlier run, or undefined when there is none yet. */
async function savedCa(dir: string): Promise<SimPemPair | undefined> {
  try {
    const [certPem, keyPem] = await Promise.all(
      CA_FILES.map((name) => readFile(join(dir, name), 'utf8')),
    );
    return { certPem: certPem ?? '', keyPem: keyPem ?? '' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputProblem(`cannot read the APNs CA in ${dir}: ${(error as Error).message}`);
  }
}

async function saveCa(dir: string, ca: SimPemPair): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, CA_FILES[0]), ca.certPem);
  await writeFile(join(dir, CA_FILES[1]), ca.keyPem, { mode: 0o600 });
}

/** Against a running daemon; pushes reach devices only if it was started with `--apns-url` here. */
async function runAgainst(opts: SimOptions, plan: SimPlan): Promise<number> {
  const key = opts.apiKey ?? process.env.ORCHARD_API_KEY;
  if (key === undefined || key === '')
    throw new UsageProblem('an API key is needed: --api-key or ORCHARD_API_KEY');
  const base = (opts.url ?? process.env.ORCHARD_URL ?? DEFAULT_DAEMON_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(base)) throw new UsageProblem(`--url ${base} is not an http(s) URL`);
  let fleet: Fleet | undefined;
  const port = opts.apnsPort === undefined ? 0 : count('--apns-port', opts.apnsPort, 65_535);
  const ca = opts.apnsDir === undefined ? undefined : await savedCa(opts.apnsDir);
  const apns = await createSimApns({
    port,
    onPush: (token) => fleet?.push(token),
    ...(ca === undefined ? {} : { ca }),
  });
  try {
    if (opts.apnsDir !== undefined && ca === undefined) await saveCa(opts.apnsDir, apns.ca);
    const caFile = opts.apnsDir === undefined ? 'FILE' : join(opts.apnsDir, CA_FILES[0]);
    process.stderr.write(
      `orchard sim: APNs endpoint ${apns.url}; pushes reach the devices when the daemon runs ` +
        `with --apns-url ${apns.url} --apns-ca ${caFile}\n`,
    );
    const api = simAdminApi(base, key);
    await api.check();
    return print(plan, await runPlan(plan, api, apns, (f) => (fleet = f)));
  } finally {
    await apns.close();
  }
}

/** Registers `orchard sim` on the program. */
export function registerSim(program: Command): void {
  const sim = program
    .command('sim')
    .description('run simulated devices against a daemon, or everything in one process (--demo)')
    .option('--url <url>', `the daemon's base URL (env ORCHARD_URL; default ${DEFAULT_DAEMON_URL})`)
    .option('--api-key <key>', 'a write-scope admin API key (env ORCHARD_API_KEY)')
    .option('--demo', 'start a daemon, a test push identity and the APNs endpoint in this process')
    .option('--devices <n>', 'how many devices', '10')
    .option('--concurrency <n>', 'most enrollments at once', '16')
    .option(
      '--os-mix <mix>',
      'platform weights, e.g. ios:70,ipados:10,macos:20 (ios@16.4:70; ios-ue:20 User Enrollment)',
    )
    .option('--user-channels', 'macOS device enrollments also enroll and check in a user channel')
    .option('--not-now-rate <r>', 'share of commands answered NotNow, 0 to 1 (default 0)')
    .option('--error-rate <r>', 'share of commands answered Error, 0 to 1 (default 0)')
    .option('--interval <duration>', 'check-in interval while --duration runs (default 60s)')
    .option('--duration <duration>', 'keep checking in this long after enrolling (default 0)')
    .option('--apns-port <port>', 'port of the APNs endpoint on 127.0.0.1 (without --demo)')
    .option(
      '--apns-dir <dir>',
      "keep the APNs endpoint's CA here (apns-ca.pem: the daemon's --apns-ca) across runs",
    )
    .option('--json', 'print the summary as one JSON object')
    .action(async (opts: SimOptions) => {
      await runAction(sim, async () => {
        if (opts.demo === true && opts.url !== undefined)
          throw new UsageProblem('--demo starts its own daemon: drop --url');
        const plan = planOf(opts);
        return opts.demo === true ? runDemo(plan) : runAgainst(opts, plan);
      });
    });
}
