/**
 * Command polls through the daemon (issue 20): devices enrolled at `orchard serve` through its
 * SCEP, each with commands queued through the admin API, answer each command and get the next in
 * the same request (`Acknowledged` for command k answers command k + 1), as a device works
 * through its queue. Every body is signed before the clock starts (a signature costs the client
 * more than the server's check), so the load is one keep-alive node:http client with `devices`
 * requests in flight; each answer must carry the next command's uuid, and the run fails on any
 * other answer. The server's CPU per poll comes from /proc, as the `ab` rows' does.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { mdmSignature } from '../src/sim/index.js';
import type { DeviceEmulator } from '../test/support/device-emulator.js';

/** A device of the load: what it sends, in order, and the uuid each answer must carry. */
interface PollDevice {
  /** Pre-signed bodies: an Idle, then `Acknowledged` for each queued command in order. */
  bodies: { body: Buffer; signature: string }[];
  /** `expect[i]`: the command uuid the answer to `bodies[i]` carries ('' for an empty answer). */
  expect: string[];
  /** The next body to send. */
  at: number;
}

/** What {@link preparePolls} needs of the daemon and its enrolled devices. */
export interface PollSetup {
  url: string;
  apiKey: string;
  devices: { device: DeviceEmulator; identity: Parameters<typeof mdmSignature>[1] }[];
  /** Commands queued to every device. */
  commands: number;
}

/** One timed round: polls answered, seconds, and the server's CPU per poll. */
export interface PollRound {
  polls: number;
  seconds: number;
  rps: number;
  cpuUs: number;
}

/** The prepared load: {@link PollLoad.round} sends each device's next `perRound` polls. */
export interface PollLoad {
  round(perRound: number, cpuSeconds: () => number): Promise<PollRound>;
  close(): void;
}

/** Queues `commands` ProfileList commands to every device and signs every body it will send. */
export async function preparePolls(setup: PollSetup): Promise<PollLoad> {
  const ids = setup.devices.map((d) => d.device.enrollmentId);
  const uuids: string[] = [];
  for (let k = 0; k < setup.commands; k++) {
    const res = await fetch(`${setup.url}/api/v1/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${setup.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enrollmentIds: ids, command: { RequestType: 'ProfileList' } }),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`queueing a command: ${res.status} ${text}`);
    uuids.push((JSON.parse(text) as { commandUuid: string }).commandUuid);
  }
  const sign = (d: PollSetup['devices'][number], fields: Record<string, unknown>) => {
    const body = d.device.build(fields);
    return { body, signature: mdmSignature(body, d.identity) };
  };
  const devices: PollDevice[] = setup.devices.map((d) => ({
    bodies: [
      sign(d, { Status: 'Idle' }),
      ...uuids.map((CommandUUID) => sign(d, { Status: 'Acknowledged', CommandUUID })),
    ],
    expect: [...uuids, ''],
    at: 0,
  }));
  const agent = new Agent({ keepAlive: true, maxSockets: devices.length });
  const target = new URL(`${setup.url}/mdm`);
  const send = (d: PollDevice): Promise<void> =>
    new Promise((resolve, reject) => {
      const i = d.at++;
      const { body, signature } = d.bodies[i] as PollDevice['bodies'][number];
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'PUT',
          headers: {
            'content-type': 'application/x-apple-aspen-mdm',
            'content-length': body.length,
            'mdm-signature': signature,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            const want = d.expect[i] ?? '';
            const ok = res.statusCode === 200 && (want === '' ? text === '' : text.includes(want));
            if (ok) resolve();
            else reject(new Error(`poll ${i}: ${res.statusCode ?? 0} ${text.slice(0, 200)}`));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    async round(perRound, cpuSeconds) {
      const cpu0 = cpuSeconds();
      const t0 = performance.now();
      let polls = 0;
      await Promise.all(
        devices.map(async (d) => {
          const end = Math.min(d.bodies.length, d.at + perRound);
          while (d.at < end) {
            await send(d);
            polls++;
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      return { polls, seconds, rps: polls / seconds, cpuUs: ((cpuSeconds() - cpu0) * 1e6) / polls };
    },
    close() {
      agent.destroy();
    },
  };
}
