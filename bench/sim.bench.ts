/**
 * The simulator at fleet size: `orchard sim --demo`'s setup (a daemon on a temporary directory,
 * the APNs endpoint, a test push identity), the daemon in a child process and the devices here.
 * Device sessions run at most 64 at once (`SESSIONS`): one process simulates the whole fleet, and
 * a push to 1,000 devices with every session at once lagged its event loop by seconds, so fetch
 * reused kept-alive connections the daemon had already timed out (ECONNRESET at the device). A
 * request met by a connection reset is sent once more, as a device's HTTP stack does; such
 * retries are counted in the rows' detail, and any error still fails the row.
 * - Enrollment (profile, SCEP, Authenticate, TokenUpdate, first check-in) of 1,000 devices (at
 *   scale 1; `BENCH_SIM_DEVICES` overrides), 16 at a time, against 20 devices one at a time in
 *   the same daemon (issue 15: no protocol errors at 1,000 devices).
 * - Command round trip (issue 20): one ProfileList queued to those devices through the admin
 *   API, pushed, polled and acknowledged by every device, against the same devices each checking
 *   in once with nothing queued. Medians of three repetitions; the row fails unless every device
 *   answered without an error in every repetition. A repetition ends when every device has
 *   answered, or when nothing has moved for 20 s (a lost push), or after 300 s.
 * - One InstallProfile to 10,000 devices end to end (issue 20; `BENCH_SIM_FLEET` overrides):
 *   the profile uploaded to the library, installed on every device through the API (1,000 ids a
 *   request), pushed; every device polls, installs and acknowledges; timed until the daemon's
 *   database shows every target acknowledged and every device-profile record installed. The
 *   fleet is the 1,000 devices above plus devices pre-enrolled in an untimed setup (their own
 *   certificates from the daemon's CA, records written as Authenticate and TokenUpdate leave
 *   them: see `sim-daemon.ts`), since SCEP for 10,000 devices takes longer than the run may.
 *   Baseline: the 1,000 devices' idle round (median of the three above) scaled to the fleet.
 *   One repetition; the row fails its goal unless every device acknowledged exactly once and
 *   the daemon recorded every install.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { simAdminApi } from '../src/cli/sim-api.js';
import { encodePlist } from '../src/protocol/plist.js';
import {
  createFleet,
  createSimDevice,
  generateRsaKey,
  keyPoolOf,
  type Fleet,
  type FleetSummary,
  type SimDeviceHandle,
} from '../src/sim/index.js';
import { benchRow, median, scaled, type BenchOptions, type BenchRow } from './lib.js';
import { createSessionRunner, openRecords, startSimBench, type SimBench } from './sim-fleet.js';

const DEVICES = Number(process.env.BENCH_SIM_DEVICES ?? '1000');
const FLEET = Number(process.env.BENCH_SIM_FLEET ?? '10000');
const RUNS = 3;
/** Enrollment ids per admin API request (its maximum). */
const BATCH = 1000;
/**
 * Device sessions at once in the fleet-wide rows. One process runs the whole fleet: a thousand
 * sessions at once lagged its event loop by seconds, so fetch reused kept-alive connections the
 * daemon had already timed out (ECONNRESET, `fetch failed` at the device).
 */
const SESSIONS = 64;
/** A round trip not finished after this long is reported as it stands. */
const CAP_MS = 300_000;
/** ... or once nothing has moved (no report, session or error) for this long. */
const STALL_MS = 20_000;

/** Prints how long a phase took (the module's log shows where its time goes). */
function phase(name: string, t0: number): void {
  console.error(`sim: ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * Polls `check` every `everyMs` until it says done, or its progress text has not changed for
 * {@link STALL_MS}, or `CAP_MS` after `t0`.
 */
async function waitFor(
  t0: number,
  everyMs: number,
  check: () => { done: boolean; progress: string },
) {
  let { done, progress: last } = check();
  let movedAt = performance.now();
  while (!done && performance.now() - t0 < CAP_MS && performance.now() - movedAt < STALL_MS) {
    await sleep(everyMs);
    const now = check();
    done = now.done;
    if (now.progress !== last) [last, movedAt] = [now.progress, performance.now()];
  }
}

/** An enrolled fleet and how long its enrollment took. */
interface Enrolled {
  fleet: Fleet;
  summary: FleetSummary;
  seconds: number;
  cpuSeconds: number;
}

/** Enrolls `devices` simulated devices, `concurrency` at a time, through the protocol. */
async function enrollFleet(
  b: SimBench,
  devices: number,
  concurrency: number,
  keys: readonly KeyObject[],
): Promise<Enrolled> {
  const api = simAdminApi(b.url, b.apiKey);
  const fleet = createFleet({
    ...{ devices, concurrency, createDevice: createSimDevice, apns: b.apns },
    ...{ sessions: SESSIONS, enrollmentUrl: () => api.mintEnrollmentUrl() },
    deviceOptions: { keys: keyPoolOf(keys) },
  });
  b.fallback.push = (token) => {
    fleet.push(token);
  };
  const cpu0 = process.cpuUsage();
  const d0 = await b.daemonCpuSeconds();
  const t0 = performance.now();
  const summary = await fleet.run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6 + (await b.daemonCpuSeconds()) - d0;
  return { fleet, summary, seconds, cpuSeconds };
}

/** Results of `requestType` the fleet has reported so far. */
const reported = (e: Enrolled, requestType: string): number =>
  e.fleet.summary().requestTypes[requestType] ?? 0;

/** One repetition of the round trip: its seconds, the devices that answered, errors and retries. */
interface Trip {
  seconds: number;
  answered: number;
  errors: number;
  retries: number;
}

/**
 * Seconds from queueing `command` to every device of the fleet until every device has reported
 * its result (pushed by the daemon, then polled and answered) and no device is connected any
 * more; with how many answered and the errors (the first few printed) and retries on the way.
 */
async function roundTrip(b: SimBench, e: Enrolled, command: Record<string, unknown>) {
  const type = String(command.RequestType);
  const before = e.fleet.summary();
  const want = reported(e, type) + e.fleet.devices.length;
  const ids = e.fleet.devices.map((d) => d.enrollmentId ?? d.udid);
  const t0 = performance.now();
  for (let i = 0; i < ids.length; i += BATCH)
    await b.api(
      'POST',
      '/api/v1/commands',
      { enrollmentIds: ids.slice(i, i + BATCH), command },
      201,
    );
  // One summary a poll (it sorts every latency so far).
  await waitFor(t0, 50, () => {
    const s = e.fleet.summary();
    const n = s.requestTypes[type] ?? 0;
    return { done: n >= want, progress: `${n} ${s.sessions} ${s.errors.count}` };
  });
  await e.fleet.settled();
  const seconds = (performance.now() - t0) / 1000;
  const after = e.fleet.summary();
  const trip: Trip = {
    seconds,
    answered: reported(e, type) - (want - ids.length),
    errors: after.errors.count - before.errors.count,
    retries: after.retries - before.retries,
  };
  if (trip.errors > 0 || trip.answered < ids.length)
    console.error(
      `sim.command.round-trip: ${trip.answered}/${ids.length} answered, ${trip.errors} errors, first ${JSON.stringify(after.errors.first)}`,
    );
  return trip;
}

/** Seconds for every device to check in once with nothing queued, `concurrency` at a time. */
async function idleRound(devices: readonly { connect(): Promise<unknown> }[], concurrency: number) {
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < devices.length) await devices[next++]?.connect();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - t0) / 1000;
}

/** Runs `work`; resolves its result with the CPU seconds it took here and in the daemon. */
async function withCpu<T>(b: SimBench, work: () => Promise<T>) {
  const cpu0 = process.cpuUsage();
  const d0 = await b.daemonCpuSeconds();
  const t0 = performance.now();
  const value = await work();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sim = (cpu.user + cpu.system) / 1e6;
  return { value, seconds, cpuSeconds: { sim, daemon: (await b.daemonCpuSeconds()) - d0 } };
}

/** A small Wi-Fi profile; a new identifier each time so every install is a new profile. */
function wifiProfile(): Buffer {
  const uuid = randomUUID().toUpperCase();
  return Buffer.from(
    encodePlist({
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadIdentifier: `com.example.bench.${uuid}`,
      PayloadUUID: uuid,
      PayloadDisplayName: 'Bench Wi-Fi',
      PayloadContent: [
        {
          PayloadType: 'com.apple.wifi.managed',
          PayloadVersion: 1,
          PayloadIdentifier: `com.example.bench.${uuid}.wifi`,
          PayloadUUID: randomUUID().toUpperCase(),
          SSID_STR: 'Bench',
          AutoJoin: true,
          EncryptionType: 'WPA2',
          Password: 'bench password',
        },
      ],
    }),
  );
}

/** What the InstallProfile to the whole fleet did, and whether every device did it once. */
interface FleetInstall {
  seconds: number;
  apiSeconds: number;
  /** CPU seconds of this process (simulated devices, APNs endpoint) and of the daemon's. */
  cpuSeconds: { sim: number; daemon: number };
  statuses: Record<string, number>;
  states: Record<string, number>;
  installedOnce: number;
  errors: string[];
  /** Requests sent again after a connection reset (not errors). */
  retries: number;
}

/**
 * Uploads a profile and installs it on every device through the admin API, timed until the
 * daemon's database shows every target acknowledged and every record installed; then checks that
 * every device answered exactly one InstallProfile.
 */
async function installEverywhere(
  b: SimBench,
  devices: readonly SimDeviceHandle[],
): Promise<FleetInstall> {
  const runner = createSessionRunner(SESSIONS);
  for (const d of devices)
    b.onPush.set(d.pushToken, () => {
      runner.connect(d);
    });
  const records = openRecords(b.databasePath);
  try {
    const groups = (await b.api('GET', '/api/v1/groups', undefined, 200)) as {
      items: { id: string }[];
    };
    const groupId = groups.items[0]?.id ?? '';
    const n = devices.length;
    const cpu0 = process.cpuUsage();
    const d0 = await b.daemonCpuSeconds();
    const t0 = performance.now();
    const mobileconfig = wifiProfile().toString('base64');
    const upload = { groupId, mobileconfig };
    const { profile } = (await b.api('POST', '/api/v1/profiles', upload, 201)) as {
      profile: { id: string };
    };
    const uuids = new Set<string>();
    for (let i = 0; i < n; i += BATCH) {
      const enrollmentIds = devices.slice(i, i + BATCH).map((d) => d.enrollmentId);
      const path = `/api/v1/profiles/${encodeURIComponent(profile.id)}/install`;
      const answer = (await b.api('POST', path, { enrollmentIds }, 201)) as {
        commands: { commandUuid: string }[];
      };
      for (const c of answer.commands) uuids.add(c.commandUuid);
    }
    const apiSeconds = (performance.now() - t0) / 1000;
    // Every device's answer first (counted here, cheap to poll), then the daemon's records
    // (written before it answers, so normally at once): querying them every 50 ms throughout
    // cost this process, which runs the devices, about a twentieth of its time.
    const t = runner.totals;
    await waitFor(t0, 20, () => {
      const answered = t.requestTypes.InstallProfile ?? 0;
      const progress = `${t.sessions} ${answered} ${t.errors.length} ${t.retries}`;
      return { done: answered >= n, progress };
    });
    await waitFor(t0, 100, () => {
      const statuses = records.targetStatuses([...uuids]);
      const states = records.profileStates(profile.id);
      const done = (statuses.Acknowledged ?? 0) === n && (states.installed ?? 0) === n;
      return { done, progress: JSON.stringify([statuses, states]) };
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = {
      sim: (cpu.user + cpu.system) / 1e6,
      daemon: (await b.daemonCpuSeconds()) - d0,
    };
    await runner.settled();
    const tallies = devices.map((d) => runner.tally(d));
    return {
      ...{ seconds, apiSeconds, cpuSeconds },
      statuses: records.targetStatuses([...uuids]),
      states: records.profileStates(profile.id),
      installedOnce: tallies.filter((t) => t.requestTypes.InstallProfile === 1).length,
      errors: tallies.flatMap((t) => t.errors),
      retries: tallies.reduce((a, t) => a + t.retries, 0),
    };
  } finally {
    records.close();
    for (const d of devices) b.onPush.delete(d.pushToken);
  }
}

/**
 * The fleet-wide InstallProfile row; its goal fails unless every device did it once. Its baseline
 * is the idle round of the enrolled devices (`sample`) scaled to the fleet: check-ins cost the
 * same per device at 1,000 and 10,000 (assumed, not measured: an idle round of all 10,000 took
 * about a minute of the module's time).
 */
function installRow(
  devices: readonly SimDeviceHandle[],
  sample: { devices: number; seconds: number },
  r: FleetInstall,
  extra: object,
) {
  const n = devices.length;
  const k = n.toLocaleString('en-US');
  const idleDevices = sample.devices;
  const idle = (sample.seconds * n) / idleDevices;
  const ok =
    r.installedOnce === n &&
    r.statuses.Acknowledged === n &&
    r.states.installed === n &&
    r.errors.length === 0;
  const row = benchRow({
    id: 'sim.install-profile',
    what: `one InstallProfile to ${k} simulated devices end to end (upload, install via API, push, poll, install, acknowledge, recorded)`,
    baseline: `every device checking in once, nothing queued, ${SESSIONS} at a time (the ${idleDevices.toLocaleString('en-US')} devices' idle rounds, median, scaled to ${k})`,
    baselineValues: [idle],
    values: [r.seconds],
    unit: 's',
    higherIsBetter: false,
    detail: {
      ...{ devices: n, apiSeconds: r.apiSeconds, cpuSeconds: r.cpuSeconds },
      ...{ perDeviceMs: (r.seconds * 1000) / n, sessionsAtOnce: SESSIONS },
      ...{ installedOnce: r.installedOnce, targetStatuses: r.statuses, recordStates: r.states },
      ...{ errors: r.errors.length, firstErrors: r.errors.slice(0, 5), retries: r.retries },
      ...extra,
    },
  });
  row.goal = `all ${k} acknowledged once and recorded installed`;
  row.met = ok;
  if (!ok)
    console.error(
      `sim.install-profile FAILED: ${r.installedOnce}/${n} answered one InstallProfile, targets ${JSON.stringify(r.statuses)}, records ${JSON.stringify(r.states)}, ${r.errors.length} errors ${JSON.stringify(r.errors.slice(0, 5))}`,
    );
  return row;
}

/** The simulator rows: enrollment, command round trip, InstallProfile to the whole fleet. */
export async function rows(options: BenchOptions): Promise<BenchRow[]> {
  const devices = scaled(DEVICES, options.scale, 50);
  const fleetSize = Math.max(devices, scaled(FLEET, options.scale, 100));
  let t0 = performance.now();
  const load = [loadavg()];
  // Devices share the keys (the server does not forbid it); 32 are generated while the daemon starts.
  const starting = startSimBench();
  const keys = await Promise.all(Array.from({ length: 32 }, () => generateRsaKey())).catch(
    async (error: unknown) => {
      await (await starting).close();
      throw error;
    },
  );
  const b = await starting;
  phase('keys and daemon', t0);
  try {
    t0 = performance.now();
    const small = await enrollFleet(b, 20, 1, keys);
    const e = await enrollFleet(b, devices, 16, keys);
    phase(`enrollment of 20 + ${devices} devices`, t0);
    t0 = performance.now();
    const idle: number[] = [];
    const trips: Trip[] = [];
    for (let i = 0; i < RUNS; i++) {
      idle.push(await idleRound(e.fleet.devices, SESSIONS));
      trips.push(await roundTrip(b, e, { RequestType: 'ProfileList' }));
    }
    phase(`${RUNS} idle rounds and round trips`, t0);
    t0 = performance.now();
    const pre = await withCpu(b, () => b.preEnroll(fleetSize - devices, keys));
    const setup = { preEnrolled: pre.value.length, seconds: pre.seconds, cpu: pre.cpuSeconds };
    const all = [...(e.fleet.devices as SimDeviceHandle[]), ...pre.value];
    phase(`pre-enrollment of ${pre.value.length} devices`, t0);
    t0 = performance.now();
    const install = await installEverywhere(b, all);
    phase(`InstallProfile to ${all.length} devices`, t0);
    load.push(loadavg());
    const s = e.fleet.summary();
    const k = devices.toLocaleString('en-US');
    const enrollRow = benchRow({
      id: 'sim.enroll',
      what: `${k} simulated devices enrolling (profile, SCEP, Authenticate, TokenUpdate), 16 at a time`,
      baseline: '20 devices one at a time',
      baselineValues: [small.summary.enrolled / small.seconds],
      values: [e.summary.enrolled / e.seconds],
      unit: 'devices/s',
      higherIsBetter: true,
      detail: {
        enrolled: e.summary.enrolled,
        failed: e.summary.failed,
        errors: e.summary.errors,
        cpuSecondsPerDevice: e.cpuSeconds / Math.max(1, e.summary.enrolled),
        latencyMs: e.summary.latencyMs,
      },
    });
    enrollRow.goal = 'no protocol errors';
    enrollRow.met = e.summary.errors.count === 0 && e.summary.failed === 0;
    // Every repetition must be clean: a median would hide one that timed out with errors.
    const tripRow = benchRow({
      id: 'sim.command.round-trip',
      what: `command round trip to ${k} simulated devices (queue via API, push, poll, acknowledge), ${SESSIONS} sessions at a time`,
      baseline: `every device checking in once, nothing queued, ${SESSIONS} at a time`,
      baselineValues: idle,
      values: trips.map((t) => t.seconds),
      unit: 's',
      higherIsBetter: false,
      detail: {
        ...{ devices, sessionsAtOnce: SESSIONS, errors: s.errors, commands: s.commands },
        ...{ pushes: s.pushes, retries: s.retries, repetitions: trips, load },
      },
    });
    tripRow.goal = 'every device answered, no errors, in every repetition';
    tripRow.met = s.errors.count === 0 && trips.every((t) => t.answered >= devices);
    return [
      enrollRow,
      tripRow,
      installRow(all, { devices, seconds: median(idle) }, install, { setup }),
    ];
  } finally {
    await b.close();
  }
}
