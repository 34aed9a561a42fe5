/**
 * The simulator at fleet size: `orchard sim --demo`'s setup (a daemon on a temporary directory,
 * the APNs endpoint, a test push identity) with `BENCH_SIM_DEVICES` devices (default 1,000)
 * enrolling 16 at a time, against a baseline measured in the same run: 20 devices one at a time.
 * The goal of issue 15 is zero protocol errors at 1,000 devices on 2 cores.
 */
import { performance } from 'node:perf_hooks';
import { simAdminApi } from '../src/cli/sim-api.js';
import { startSimDemo } from '../src/cli/sim-demo.js';
import { createFleet, createKeyPool, createSimDevice, type Fleet } from '../src/sim/index.js';
import type { FleetSummary } from '../src/sim/index.js';
import { report, type Rate } from './lib.js';

const DEVICES = Number(process.env.BENCH_SIM_DEVICES ?? '1000');

async function enrollFleet(devices: number, concurrency: number): Promise<[Rate, FleetSummary]> {
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
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const name = `${devices} devices, ${concurrency} at a time (errors ${summary.errors.count})`;
    const rate: Rate = {
      name,
      ops: summary.enrolled,
      opsPerSec: summary.enrolled / wall,
      opsPerCpuSec: summary.enrolled / ((cpu.user + cpu.system) / 1e6),
    };
    return [rate, summary];
  } finally {
    await demo.close();
  }
}

/** Runs the benchmark and prints its table and the fleet's latency. */
export default async function run(): Promise<void> {
  const [baseline] = await enrollFleet(20, 1);
  const [fleet, summary] = await enrollFleet(DEVICES, 16);
  report('Simulator: devices enrolled per second (daemon and devices in one process)', baseline, [
    { rate: fleet },
  ]);
  const l = summary.latencyMs;
  console.log(
    `enrolled ${summary.enrolled}/${summary.devices}, errors ${summary.errors.count}; ` +
      `round trips p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms`,
  );
}
