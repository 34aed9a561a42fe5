/**
 * The simulator at fleet size: `orchard sim --demo`'s setup (a daemon on a temporary directory,
 * the APNs endpoint, a test push identity) with 1,000 simulated devices (at scale 1;
 * `BENCH_SIM_DEVICES` overrides) in this process.
 * - Enrollment (profile, SCEP, Authenticate, TokenUpdate, first check-in), 16 at a time, against
 *   20 devices one at a time in the same run (issue 15: no protocol errors at 1,000 devices).
 * - Command round trip (issue 20): one ProfileList queued to every device through the admin
 *   API, pushed, polled and acknowledged by every device, against the same devices each checking
 *   in once with nothing queued.
 * - One InstallProfile to every device end to end (queue, push, poll, install, acknowledge),
 *   against the same baseline. The issue asks for 10,000 devices: enrolling them through SCEP
 *   takes longer than the whole run may, so the default fleet is 1,000; `BENCH_SIM_DEVICES=10000`
 *   runs the issue's size on its own.
 * Medians of three repetitions of the round trips.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { simAdminApi } from '../src/cli/sim-api.js';
import { startSimDemo, type SimDemo } from '../src/cli/sim-demo.js';
import { encodePlist } from '../src/protocol/plist.js';
import { createFleet, createKeyPool, createSimDevice, type Fleet } from '../src/sim/index.js';
import type { FleetSummary } from '../src/sim/index.js';
import { benchRow, median, scaled, type BenchOptions, type BenchRow } from './lib.js';

const DEVICES = Number(process.env.BENCH_SIM_DEVICES ?? '1000');
const RUNS = 3;
/** Enrollment ids per admin API request (its maximum). */
const BATCH = 1000;
/** A round trip not finished after this long is reported as it stands. */
const ROUND_TRIP_CAP_MS = 300_000;
/** The daemon's APNs coalescing window (`coalesceWindowMs`, default 2 s). */
const COALESCE_WINDOW_MS = 2000;

/** A demo daemon with an enrolled fleet. */
interface Enrolled {
  demo: SimDemo;
  fleet: Fleet;
  summary: FleetSummary;
  seconds: number;
  cpuSeconds: number;
}

/** Enrolls `devices` simulated devices, `concurrency` at a time, into a fresh demo daemon. */
async function enrollFleet(devices: number, concurrency: number): Promise<Enrolled> {
  let fleet: Fleet | undefined;
  const demo = await startSimDemo((token) => fleet?.push(token));
  try {
    const api = simAdminApi(demo.url, demo.apiKey);
    const keys = await createKeyPool(Math.min(devices, 64));
    fleet = createFleet({
      devices,
      concurrency,
      enrollmentUrl: () => api.mintEnrollmentUrl(),
      createDevice: createSimDevice,
      deviceOptions: { keys },
      apns: demo.apns,
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const summary = await fleet.run();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { demo, fleet, summary, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } catch (error) {
    await demo.close();
    throw error;
  }
}

/** Queues `command` to every enrolled device through the admin API, 1,000 ids a request. */
async function queue(e: Enrolled, command: Record<string, unknown>): Promise<void> {
  const ids = e.fleet.devices.map((d) => d.enrollmentId ?? d.udid);
  for (let i = 0; i < ids.length; i += BATCH) {
    const res = await fetch(`${e.demo.url}/api/v1/commands`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${e.demo.apiKey}`,
        'content-type': 'application/x-apple-plist',
      },
      body: encodePlist({ enrollmentIds: ids.slice(i, i + BATCH), command } as never),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST /api/v1/commands: ${res.status} ${text}`);
  }
}

/** Results of `requestType` the fleet has reported so far. */
const reported = (e: Enrolled, requestType: string): number =>
  e.fleet.summary().requestTypes[requestType] ?? 0;

/**
 * Seconds from queueing `command` to every device until every device has reported its result
 * (pushed by the daemon, then polled and answered) and no device is connected any more.
 */
async function roundTrip(e: Enrolled, command: Record<string, unknown>): Promise<number> {
  // The APNs client drops a push identical to one sent to the same token in the last 2 s
  // (coalescing), even when the device has connected since: let the window lapse first.
  await sleep(COALESCE_WINDOW_MS + 500);
  const type = String(command.RequestType);
  const want = reported(e, type) + e.fleet.devices.length;
  const t0 = performance.now();
  await queue(e, command);
  while (reported(e, type) < want && performance.now() - t0 < ROUND_TRIP_CAP_MS) await sleep(20);
  await e.fleet.settled();
  return (performance.now() - t0) / 1000;
}

/** Seconds for every device to check in once with nothing queued, 16 at a time. */
async function idleRound(e: Enrolled): Promise<number> {
  const devices = [...e.fleet.devices];
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < devices.length) await devices[next++]?.connect();
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return (performance.now() - t0) / 1000;
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

/** The simulator rows: enrollment, command round trip and InstallProfile across the fleet. */
export async function rows(options: BenchOptions): Promise<BenchRow[]> {
  const devices = scaled(DEVICES, options.scale, 50);
  const small = await enrollFleet(20, 1);
  await small.demo.close();
  const e = await enrollFleet(devices, 16);
  try {
    const idle: number[] = [];
    const trip: number[] = [];
    const install: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      idle.push(await idleRound(e));
      trip.push(await roundTrip(e, { RequestType: 'ProfileList' }));
      install.push(await roundTrip(e, { RequestType: 'InstallProfile', Payload: wifiProfile() }));
    }
    const s = e.fleet.summary();
    const k = devices.toLocaleString('en-US');
    const idleBase = {
      baseline: `every device checking in once, nothing queued, 16 at a time`,
      baselineValues: idle,
      unit: 's',
      higherIsBetter: false,
    };
    const detail = {
      devices,
      errors: s.errors,
      commands: s.commands,
      pushes: s.pushes,
      latencyMs: s.latencyMs,
    };
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
    return [
      enrollRow,
      benchRow({
        id: 'sim.command.round-trip',
        what: `command round trip to ${k} simulated devices (queue via API, push, poll, acknowledge)`,
        ...idleBase,
        values: trip,
        detail,
      }),
      benchRow({
        id: 'sim.install-profile',
        what: `one InstallProfile to ${k} simulated devices end to end (10,000 in the issue: BENCH_SIM_DEVICES=10000)`,
        ...idleBase,
        values: install,
        detail: { ...detail, perDeviceMs: (median(install) * 1000) / devices },
      }),
    ];
  } finally {
    await e.demo.close();
  }
}
