/**
 * Check-in and command-poll throughput of the MDM core over node:http, as a ratio to a bare
 * node:http server that reads the same body and parses the same plist. Client and server share
 * the process (and the 2 cores), one request at a time over a keep-alive connection.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePlist } from '../src/protocol/plist.js';
import { createNodeListener } from '../src/http/node.js';
import { withCertAuth } from '../src/service/cert-auth.js';
import { createMdmCore } from '../src/service/core.js';
import { createMemoryStorage } from '../src/storage/memory/index.js';
import { DeviceEmulator } from '../test/support/device-emulator.js';
import { createTestCa, issueDeviceIdentity } from '../test/support/device-pki.js';
import {
  alternate,
  benchRow,
  benchSeconds,
  measure,
  type BenchOptions,
  type BenchRow,
} from './lib.js';

const TOPIC = 'com.apple.mgmt.External.bench';
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function put(
  port: number,
  path: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function bareServer(): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      decodePlist(Buffer.concat(chunks));
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
  });
}

function ok(status: number): void {
  if (status !== 200) throw new Error(`bench request answered ${status}`);
}

/**
 * The in-process core rows: TokenUpdate, an Idle poll, a command out and back, and a signed Idle
 * poll through `withCertAuth`, over the memory store, each against a bare node:http server that
 * parses the same plist; medians of three alternating rounds.
 */
export async function rows(options: BenchOptions): Promise<BenchRow[]> {
  const seconds = Math.max(0.3, (benchSeconds / 2) * Math.min(1, options.scale * 2));
  const ca = await createTestCa();
  const identity = await issueDeviceIdentity(ca, 'bench');
  const storage = createMemoryStorage();
  const core = createMdmCore({ storage }, { topic: TOPIC, outbox: false });
  const servers = [
    bareServer(),
    createServer(createNodeListener(core)),
    createServer(
      createNodeListener(withCertAuth(core, { store: storage, roots: [ca.certificate] })),
    ),
  ];
  const [barePort, corePort, authPort] = (await Promise.all(servers.map(listen))) as [
    number,
    number,
    number,
  ];
  const dev = new DeviceEmulator({
    baseUrl: `http://127.0.0.1:${authPort}`,
    identity,
    topic: TOPIC,
  });
  await dev.enroll();
  const checkinHeaders = { 'content-type': 'application/x-apple-aspen-mdm-checkin' };
  const tokenUpdate = dev.build({
    MessageType: 'TokenUpdate',
    Topic: TOPIC,
    Token: dev.token,
    PushMagic: dev.pushMagic,
  });
  const idle = dev.build({ Status: 'Idle' });
  const signedIdle = { ...dev.identityHeaders(idle) };
  const command = { RequestType: 'ProfileList' } as const;
  const cases: Record<string, () => Promise<unknown>> = {
    bare: async () => {
      ok(await put(barePort, '/mdm', tokenUpdate, checkinHeaders));
    },
    tokenUpdate: async () => {
      ok(await put(corePort, '/mdm', tokenUpdate, checkinHeaders));
    },
    idle: async () => {
      ok(await put(corePort, '/mdm', idle, {}));
    },
    command: async () => {
      const uuid = await core.enqueue([dev.enrollmentId], command, { push: false });
      ok(await put(corePort, '/mdm', idle, {}));
      ok(await put(corePort, '/mdm', dev.build({ Status: 'Acknowledged', CommandUUID: uuid }), {}));
    },
    signed: async () => {
      ok(await put(authPort, '/mdm', idle, signedIdle));
    },
  };
  const measured = await alternate(
    3,
    Object.fromEntries(Object.entries(cases).map(([k, fn]) => [k, () => measure(k, fn, seconds)])),
  );
  agent.destroy();
  await core.close();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await storage.close();
  const rates = (k: string): number[] => (measured[k] ?? []).map((r) => r.opsPerSec);
  const base = {
    baseline: 'bare node:http + plist parse, keep-alive, one at a time',
    baselineValues: rates('bare'),
    unit: 'req/s',
    higherIsBetter: true,
  };
  const row = (id: string, what: string, key: string): BenchRow =>
    benchRow({ id, what, ...base, values: rates(key) });
  return [
    row('checkin.core.token-update', 'core in process, memory store: TokenUpdate', 'tokenUpdate'),
    row('checkin.core.idle', 'core in process, memory store: Idle poll, empty queue', 'idle'),
    row(
      'checkin.core.command',
      'core in process: enqueue + Idle (command out) + Acknowledged (per command)',
      'command',
    ),
    row('checkin.core.signed-idle', 'core + withCertAuth + Mdm-Signature: Idle poll', 'signed'),
  ];
}
