/**
 * Push coalescing end to end (issue 20): a daemon (`orchard sim --demo`'s setup, SQLite) pushing
 * to the simulator's APNs endpoint, and a simulated device that connects only when the test
 * says. A command queued right after the device answered the previous one is pushed again
 * (within the daemon's 2 s coalescing window); two commands queued at once before the device
 * connects make one push. Each step waits for the daemon to record the command's push outcome,
 * so nothing depends on timing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startSimDemo, type SimDemo } from '../../src/cli/sim-demo.js';
import { createKeyPool, createSimDevice, type SimDeviceHandle } from '../../src/sim/index.js';
import { simAdminApi } from '../../src/cli/sim-api.js';

let demo: SimDemo;
let device: SimDeviceHandle;
/** Tokens the APNs endpoint accepted a push for, in order. */
const pushed: string[] = [];

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${demo.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${demo.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** Queues a ProfileList to the device; resolves its uuid once stored (the push follows). */
async function queue(): Promise<string> {
  const path = `/api/v1/enrollments/${encodeURIComponent(device.enrollmentId)}/commands`;
  const body = (await api('POST', path, { RequestType: 'ProfileList' })) as { commandUuid: string };
  return body.commandUuid;
}

/** The push outcome the daemon recorded for the command, once it has (polled, no deadline). */
async function pushOutcome(uuid: string): Promise<string> {
  for (;;) {
    const read = (await api('GET', `/api/v1/commands/${uuid}`)) as {
      targets: { lastPush?: { outcome: string } }[];
    };
    const outcome = read.targets[0]?.lastPush?.outcome;
    if (outcome !== undefined) return outcome;
    await sleep(10);
  }
}

beforeAll(async () => {
  demo = await startSimDemo((token) => pushed.push(token));
  const keys = await createKeyPool(1);
  device = createSimDevice({ platform: 'iOS', osVersion: '18.1', keys });
  const url = await simAdminApi(demo.url, demo.apiKey).mintEnrollmentUrl();
  await device.enroll({ url });
  demo.apns.register(device.pushToken);
}, 60_000);

afterAll(async () => {
  await demo.close();
});

describe('push coalescing through the daemon', () => {
  test('ok/a command queued right after the device answered the last one is pushed again', async () => {
    const before = pushed.length;
    const a = await queue();
    expect(await pushOutcome(a)).toBe('accepted');
    expect(pushed.length).toBe(before + 1);
    // The device wakes, fetches A and acknowledges it, all within the window of A's push.
    const session = await device.connect();
    expect(session.errors).toEqual([]);
    expect(session.requestTypes).toEqual({ ProfileList: 1 });
    const b = await queue();
    expect(await pushOutcome(b)).toBe('accepted');
    expect(pushed.length).toBe(before + 2);
    expect(pushed.slice(before)).toEqual([device.pushToken, device.pushToken]);
    expect((await device.connect()).requestTypes).toEqual({ ProfileList: 1 });
  });

  test('ok/two commands queued at once before the device connects make one push', async () => {
    const before = pushed.length;
    const [c, d] = await Promise.all([queue(), queue()]);
    expect(await pushOutcome(c)).toBe('accepted');
    expect(await pushOutcome(d)).toBe('accepted');
    expect(pushed.length).toBe(before + 1);
    // The one push is enough: the device's one session fetches both.
    expect((await device.connect()).requestTypes).toEqual({ ProfileList: 2 });
  });
});
