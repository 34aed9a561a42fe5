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
import { measure, report } from './lib.js';

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

/** Runs the benchmark and prints its table. */
export default async function run(): Promise<void> {
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

  const baseline = await measure('bare node:http + plist parse (TokenUpdate body)', async () => {
    ok(await put(barePort, '/mdm', tokenUpdate, checkinHeaders));
  });
  const rows = [
    await measure('core: TokenUpdate check-in', async () => {
      ok(await put(corePort, '/mdm', tokenUpdate, checkinHeaders));
    }),
    await measure('core: Idle poll, empty queue', async () => {
      ok(await put(corePort, '/mdm', idle, {}));
    }),
    await measure('core: enqueue + Idle (command out) + Acknowledged', async () => {
      const uuid = await core.enqueue([dev.enrollmentId], command, { push: false });
      ok(await put(corePort, '/mdm', idle, {}));
      ok(await put(corePort, '/mdm', dev.build({ Status: 'Acknowledged', CommandUUID: uuid }), {}));
    }),
    await measure('core + withCertAuth + Mdm-Signature: Idle poll', async () => {
      ok(await put(authPort, '/mdm', idle, signedIdle));
    }),
  ];
  report(
    'MDM core over node:http (one request at a time, keep-alive)',
    baseline,
    rows.map((rate) => ({ rate })),
  );
  agent.destroy();
  await core.close();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await storage.close();
}
