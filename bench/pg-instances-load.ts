/**
 * The load generator of `pg-instances.bench.ts`, run as a child process (forked with IPC) so the
 * client's CPU is its own: bounded concurrency of signed Idle command reports (`PUT /mdm`), each
 * connection sending one request after the other over keep-alive, devices taken in turn, the
 * connections split evenly over the daemons' ports. Answers counts and latency percentiles.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One device's pre-signed Idle report. */
export interface LoadDevice {
  /** The plist body, base64. */
  body: string;
  /** Its `Mdm-Signature` header. */
  signature: string;
}

/** A run the parent asks for. */
export interface LoadRun {
  kind: 'run';
  ports: number[];
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
}

/** What one run measured. */
export interface LoadResult {
  kind: 'result';
  ok: number;
  failed: number;
  /** Statuses other than 200, by status (0: a transport error). */
  statuses: Record<string, number>;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU seconds this client used during the measured part. */
  cpuSeconds: number;
}

type Message = { kind: 'devices'; devices: LoadDevice[] } | LoadRun | { kind: 'exit' };

let devices: { body: Buffer; headers: Record<string, string> }[] = [];

function put(agent: Agent, port: number, index: number): Promise<number> {
  const device = devices[index % devices.length] as (typeof devices)[number];
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/mdm', method: 'PUT', agent, headers: device.headers },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', () => {
      resolve(0);
    });
    req.end(device.body);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

async function runLoad(run: LoadRun): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: run.concurrency });
  const t0 = performance.now();
  const measureFrom = t0 + run.warmupSeconds * 1000;
  const end = measureFrom + run.seconds * 1000;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let next = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  const loop = async (connection: number): Promise<void> => {
    const port = run.ports[connection % run.ports.length] as number;
    for (;;) {
      const started = performance.now();
      if (started >= end) return;
      if (started >= measureFrom && cpu0 === undefined) cpu0 = process.cpuUsage();
      const status = await put(agent, port, next++);
      const done = performance.now();
      if (started < measureFrom) continue;
      latencies.push(done - started);
      if (status === 200) ok++;
      else {
        failed++;
        statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: run.concurrency }, (_, i) => loop(i)));
  const wall = (performance.now() - measureFrom) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    kind: 'result',
    ok,
    failed,
    statuses,
    seconds: wall,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

process.on('message', (message: Message) => {
  if (message.kind === 'devices') {
    devices = message.devices.map((d) => ({
      body: Buffer.from(d.body, 'base64'),
      headers: {
        'content-type': 'application/x-apple-aspen-mdm',
        'mdm-signature': d.signature,
      },
    }));
    process.send?.({ kind: 'ready' });
  } else if (message.kind === 'run') {
    void runLoad(message).then((result) => process.send?.(result));
  } else process.exit(0);
});
