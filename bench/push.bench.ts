/**
 * APNs push throughput against the local HTTP/2 mock: a plain node:http2 client (baseline),
 * the Orchard provider on one connection and on a pool, and a burst during which the mock
 * lowers SETTINGS_MAX_CONCURRENT_STREAMS to 1 (nothing may be lost or sent twice).
 * `PUSH_BENCH_COUNT` sets the pushes per run (default 100,000).
 */
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { report, type Rate } from './lib.js';
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

/** Times `fn` and samples memory while it runs. */
async function timed(name: string, ops: number, fn: () => Promise<number>): Promise<Run> {
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

/** The better of two runs: the machine is shared, so the slower one measured interference. */
function best(a: Run, b: Run | undefined): Run {
  return b === undefined || a.rate.opsPerSec >= b.rate.opsPerSec ? a : b;
}

/** Default export for bench/run.ts. */
export default async function pushBench(): Promise<void> {
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
  await plainHttp2(mock, pair, ca, topic, Math.min(COUNT, 5000));
  await viaProvider(mock, {
    pair,
    ca,
    poolSize: 1,
    targets: makeTargets(topic, Math.min(COUNT, 5000), 1),
  });
  const targets = makeTargets(topic, COUNT, 2);

  let base: Run | undefined;
  let one: Run | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    base = best(
      await timed('node:http2, 1 connection, 1000 streams', COUNT, () =>
        plainHttp2(mock, pair, ca, topic, COUNT),
      ),
      base,
    );
    one = best(
      await timed('Orchard provider, 1 connection', COUNT, () =>
        viaProvider(mock, { pair, ca, poolSize: 1, targets }),
      ),
      one,
    );
  }
  if (base === undefined || one === undefined) return;

  // The pool: a server that allows 250 streams per connection, so 4 connections carry the same 1000.
  const narrow = await createApnsMock({
    server: pki.server,
    ca,
    record: false,
    maxConcurrentStreams: WINDOW / 4,
  });
  const pool = await timed('Orchard provider, pool of 4 x 250 streams', COUNT, () =>
    viaProvider(narrow, { pair, ca, poolSize: 4, targets }),
  );
  const poolConnections = narrow.connections;
  await narrow.close();

  const before = mock.count;
  let lowered = -1;
  mock.onPush = (_p, i) => {
    if (i === before + Math.floor(COUNT / 2)) {
      mock.setMaxConcurrentStreams(1);
      lowered = i;
    } else if (lowered >= 0 && i === lowered + 2000) mock.setMaxConcurrentStreams(WINDOW);
  };
  const squeeze = await timed(
    'Orchard provider, limit lowered to 1 mid-burst (2,000 pushes)',
    COUNT,
    () => viaProvider(mock, { pair, ca, poolSize: 1, targets }),
  );
  const processed = mock.count - before;
  await mock.close();

  report(
    `APNs push to the local mock (${COUNT.toLocaleString('en-US')} pushes per run, best of ${ROUNDS})`,
    base.rate,
    [{ rate: one.rate, goal: 0.82 }, { rate: pool.rate }, { rate: squeeze.rate }],
  );
  const mb = (r: Run): string => `${r.peakHeapMb.toFixed(0)} / ${r.peakRssMb.toFixed(0)}`;
  const cpu = (r: Run): string =>
    `${Math.round(r.rate.opsPerCpuSec).toLocaleString('en-US')} (${(r.rate.opsPerCpuSec / base.rate.opsPerCpuSec).toFixed(2)})`;
  console.log(
    `| pushes per CPU-second (ratio): baseline ${cpu(base)}, one ${cpu(one)}, pool ${cpu(pool)}, squeeze ${cpu(squeeze)} | | | |`,
  );
  console.log(
    `| peak heap growth / process RSS, MB: baseline ${mb(base)}, one connection ${mb(one)}, pool ${mb(pool)}, squeeze ${mb(squeeze)} | | | |`,
  );
  console.log(
    `| sent: baseline ${base.sent}, one ${one.sent}, pool ${pool.sent} over ${poolConnections} connections | | | |`,
  );
  console.log(
    `| squeeze: sent ${squeeze.sent}, lost ${COUNT - squeeze.sent}, processed twice ${processed - COUNT} | | | |`,
  );
}
