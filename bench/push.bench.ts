/**
 * APNs push throughput against the local HTTP/2 mock: a plain node:http2 client (baseline),
 * the Orchard provider on one connection and on a pool, and a burst during which the mock
 * lowers SETTINGS_MAX_CONCURRENT_STREAMS to 1 (nothing may be lost or sent twice).
 * `PUSH_BENCH_COUNT` sets the pushes per run at scale 1 (default 100,000), `PUSH_BENCH_ROUNDS` the
 * repetitions (default 2, alternating, each side first in every other round, a full garbage
 * collection before each timed run; the module is most of a minute per round). The fan-out row keeps CPU microseconds per push of both sides in its
 * detail: on a busy machine they move less than the rates.
 */
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  alternate,
  benchRow,
  median,
  scaled,
  type BenchOptions,
  type BenchRow,
  type Rate,
} from './lib.js';
import { loadPushCertificate } from '../src/push/apns/certificate.js';
import { createApnsPushProvider } from '../src/push/apns/provider.js';
import type { PushTarget } from '../src/push/ports.js';
import { createApnsMock, type ApnsMock } from '../test/support/apns-mock.js';
import {
  createApnsTestPki,
  issuePushCertificate,
  newTopic,
  type PemPair,
} from '../test/push/pki.js';

const COUNT = Number(process.env.PUSH_BENCH_COUNT ?? '100000');
const WINDOW = 1000;
const ROUNDS = Number(process.env.PUSH_BENCH_ROUNDS ?? '2');

interface Run {
  rate: Rate;
  peakRssMb: number;
  /** Peak V8 heap in use during the run, above what was in use when it started. */
  peakHeapMb: number;
  sent: number;
}

/**
 * A full collection before each timed run (outside its timing), so no run is billed for the
 * garbage the one before it left: the provider's 100,000 results would otherwise land on
 * whichever side runs next.
 */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** Times `fn` and samples memory while it runs. */
async function timed(name: string, ops: number, fn: () => Promise<number>): Promise<Run> {
  collectGarbage();
  const start = process.memoryUsage();
  let peak = start.rss;
  let heap = start.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 20);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = await fn();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  return {
    rate: { name, ops, opsPerSec: ops / wall, opsPerCpuSec: ops / cpuSec },
    peakRssMb: peak / 2 ** 20,
    peakHeapMb: (heap - start.heapUsed) / 2 ** 20,
    sent,
  };
}

function makeTargets(topic: string, n: number, salt: number): PushTarget[] {
  return Array.from({ length: n }, (_, i) => ({
    enrollmentId: `e${i}`,
    token: `${salt.toString(16)}${i.toString(16).padStart(63, '0')}`,
    pushMagic: '7A1B2C3D-0000-4000-8000-00000000000A',
    topic,
  }));
}

/** The baseline: node:http2 with a fixed window of streams, no retries, no bookkeeping. */
function plainHttp2(
  mock: ApnsMock,
  pair: PemPair,
  ca: string,
  topic: string,
  n: number,
): Promise<number> {
  const session = http2.connect(mock.url, { cert: pair.certPem, key: pair.keyPem, ca });
  let next = 0;
  let done = 0;
  let ok = 0;
  return new Promise((resolve) => {
    const one = (): void => {
      if (next >= n) return;
      const i = next++;
      const stream = session.request({
        ':method': 'POST',
        ':path': `/3/device/${i.toString(16).padStart(64, '0')}`,
        'apns-topic': topic,
        'apns-push-type': 'mdm',
        'apns-priority': '10',
        'apns-expiration': '0',
      });
      stream.on('response', (h) => {
        if (h[':status'] === 200) ok++;
      });
      stream.resume();
      stream.on('close', () => {
        if (++done === n) {
          session.close();
          resolve(ok);
        } else one();
      });
      stream.end('{"mdm":"7A1B2C3D-0000-4000-8000-00000000000A"}');
    };
    for (let k = 0; k < WINDOW; k++) one();
  });
}

async function viaProvider(
  mock: ApnsMock,
  run: { pair: PemPair; ca: string; poolSize: number; targets: PushTarget[] },
): Promise<number> {
  const provider = createApnsPushProvider(
    { certificate: loadPushCertificate(run.pair) },
    {
      url: mock.url,
      ca: run.ca,
      poolSize: run.poolSize,
      expiryCheckIntervalMs: 0,
      coalesceWindowMs: 0,
    },
  );
  const results = await provider.push(run.targets);
  await provider.close();
  return results.filter((r) => r.outcome === 'sent').length;
}

const rates = (runs: readonly Run[]): number[] => runs.map((r) => r.rate.opsPerSec);
/** CPU microseconds per push of this process (client and mock), steadier than the rate. */
const cpuMicros = (runs: readonly Run[]): number[] => runs.map((r) => 1e6 / r.rate.opsPerCpuSec);

/**
 * The APNs rows: 100,000 pushes (at scale 1) to the local mock through the Orchard provider on
 * one connection (goal 0.9 of a plain node:http2 client in the same run), on a pool, and through a
 * burst during which the mock lowers its stream limit to 1 (nothing may be lost or sent twice).
 * Medians of {@link ROUNDS} alternating runs.
 */
export async function rows(options: BenchOptions): Promise<BenchRow[]> {
  const count = scaled(COUNT, options.scale, 5000);
  const pki = await createApnsTestPki();
  const topic = newTopic();
  const pair = await issuePushCertificate(pki, { topic });
  const ca = pki.ca.certPem;
  const mock = await createApnsMock({
    server: pki.server,
    ca,
    record: false,
    maxConcurrentStreams: WINDOW,
  });
  await plainHttp2(mock, pair, ca, topic, Math.min(count, 5000));
  await viaProvider(mock, {
    pair,
    ca,
    poolSize: 1,
    targets: makeTargets(topic, Math.min(count, 5000), 1),
  });
  const targets = makeTargets(topic, count, 2);

  const sides = {
    base: () =>
      timed('node:http2, 1 connection, 1000 streams', count, () =>
        plainHttp2(mock, pair, ca, topic, count),
      ),
    one: () =>
      timed('Orchard provider, 1 connection', count, () =>
        viaProvider(mock, { pair, ca, poolSize: 1, targets }),
      ),
  };
  const base: Run[] = [];
  const one: Run[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Each side goes first in every other round: the garbage a run leaves is collected during
    // the next one, so a fixed order would always bill the same side for the other's garbage.
    const round = await alternate(1, r % 2 === 0 ? sides : { one: sides.one, base: sides.base });
    base.push(...(round.base ?? []));
    one.push(...(round.one ?? []));
  }

  // The pool: a server that allows 250 streams per connection, so 4 connections carry the same 1000.
  const narrow = await createApnsMock({
    server: pki.server,
    ca,
    record: false,
    maxConcurrentStreams: WINDOW / 4,
  });
  // The pool and the squeeze run a fifth of the pushes: they check behaviour, not the goal.
  const side = Math.max(5000, Math.round(count / 5));
  const sideTargets = targets.slice(0, side);
  const pool = await timed('Orchard provider, pool of 4 x 250 streams', side, () =>
    viaProvider(narrow, { pair, ca, poolSize: 4, targets: sideTargets }),
  );
  const poolConnections = narrow.connections;
  await narrow.close();

  const before = mock.count;
  let lowered = -1;
  mock.onPush = (_p, i) => {
    if (i === before + Math.floor(side / 2)) {
      mock.setMaxConcurrentStreams(1);
      lowered = i;
    } else if (lowered >= 0 && i === lowered + 2000) mock.setMaxConcurrentStreams(WINDOW);
  };
  const squeeze = await timed(
    'Orchard provider, limit lowered to 1 mid-burst (2,000 pushes)',
    side,
    () => viaProvider(mock, { pair, ca, poolSize: 1, targets: sideTargets }),
  );
  const processed = mock.count - before;
  await mock.close();

  const memory = (r: readonly Run[]) => ({
    peakHeapGrowthMb: median(r.map((x) => x.peakHeapMb)),
    peakRssMb: median(r.map((x) => x.peakRssMb)),
  });
  const baseline = {
    baseline: 'plain node:http2 client, 1 connection, 1,000 streams',
    baselineValues: rates(base),
    unit: 'pushes/s',
    higherIsBetter: true,
  };
  const n = count.toLocaleString('en-US');
  const squeezeRow = benchRow({
    id: 'push.apns.squeeze',
    what: `APNs fan-out, ${side.toLocaleString('en-US')} pushes, stream limit lowered to 1 for 2,000 pushes mid-burst`,
    ...baseline,
    values: [squeeze.rate.opsPerSec],
    detail: { sent: squeeze.sent, lost: side - squeeze.sent, processedTwice: processed - side },
  });
  squeezeRow.goal = 'none lost or sent twice';
  squeezeRow.met = squeeze.sent === side && processed === side;
  return [
    benchRow({
      id: 'push.apns.fanout',
      what: `APNs fan-out, ${n} pushes to the mock, Orchard provider, 1 connection`,
      ...baseline,
      values: rates(one),
      goal: { ratioAtLeast: 0.9 },
      detail: {
        sent: one.map((r) => r.sent),
        perCpuSecond: median(one.map((r) => r.rate.opsPerCpuSec)),
        baselinePerCpuSecond: median(base.map((r) => r.rate.opsPerCpuSec)),
        cpuMicrosPerPush: cpuMicros(one),
        baselineCpuMicrosPerPush: cpuMicros(base),
        memory: memory(one),
        baselineMemory: memory(base),
      },
    }),
    benchRow({
      id: 'push.apns.pool',
      what: `APNs fan-out, ${side.toLocaleString('en-US')} pushes, pool of 4 connections x 250 streams`,
      ...baseline,
      values: [pool.rate.opsPerSec],
      detail: { sent: pool.sent, connections: poolConnections, memory: memory([pool]) },
    }),
    squeezeRow,
  ];
}
