/**
 * Push coalescing across two daemons on one SQLite data directory (as `--workers 2` or two
 * daemons on one database run): the device answers a command through daemon B (every request of
 * the device goes there) while daemon A
 * pushed it; a command queued through A right after is pushed again by A, whose coalescing
 * window cannot see B's requests but reads the device's queue head from the shared database.
 * Each step waits for the daemon to record the command's push outcome, so nothing depends on
 * timing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { simAdminApi } from '../../src/cli/sim-api.js';
import { resolveConfig, startDaemon, type RunningDaemon } from '../../src/daemon/index.js';
import {
  createKeyPool,
  createSimApns,
  createSimDevice,
  type SimApns,
  type SimDeviceHandle,
} from '../../src/sim/index.js';

let dir: string;
let apns: SimApns;
let a: RunningDaemon | undefined;
let b: RunningDaemon | undefined;
let device: SimDeviceHandle;
const apiKey = randomBytes(32).toString('base64url');
/** Tokens the APNs endpoint accepted a push for, in order. */
const pushed: string[] = [];

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

const daemonA = (): string => a?.url ?? '';

/** Queues a ProfileList to the device through daemon A; resolves its uuid. */
async function queueThroughA(): Promise<string> {
  const path = `/api/v1/enrollments/${encodeURIComponent(device.enrollmentId)}/commands`;
  const body = (await api(daemonA(), 'POST', path, { RequestType: 'ProfileList' })) as {
    commandUuid: string;
  };
  return body.commandUuid;
}

/** The push outcome A recorded for the command, once it has (polled, no deadline). */
async function pushOutcome(uuid: string): Promise<string> {
  for (;;) {
    const read = (await api(daemonA(), 'GET', `/api/v1/commands/${uuid}`)) as {
      targets: { lastPush?: { outcome: string } }[];
    };
    const outcome = read.targets[0]?.lastPush?.outcome;
    if (outcome !== undefined) return outcome;
    await sleep(10);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orchard-coalesce-'));
  apns = await createSimApns({ onPush: (token) => pushed.push(token) });
  const identity = await apns.issuePushIdentity(`com.apple.mgmt.External.${randomUUID()}`);
  const file = (name: string): string => join(dir, name);
  await writeFile(file('push.pem'), identity.certPem);
  await writeFile(file('push.key'), identity.keyPem, { mode: 0o600 });
  await writeFile(file('apns-ca.pem'), apns.caPem);
  const config = resolveConfig(
    {
      ...{ listen: '127.0.0.1:0', 'data-dir': file('data'), 'api-key': apiKey },
      ...{ 'push-cert': file('push.pem'), 'push-key': file('push.key') },
      ...{ 'apns-url': apns.url, 'apns-ca': file('apns-ca.pem'), 'ca-key-type': 'rsa-2048' },
      ...{ 'log-level': 'silent', 'rate-limit': 'off' },
    },
    {},
  );
  a = await startDaemon(config, { print: () => undefined });
  b = await startDaemon(config, { print: () => undefined });
  // The device's requests go to B (its enrollment profile names A).
  // Every request of the device goes to B, whatever URL its enrollment profile names.
  const host = new URL(b.url).host;
  const toB: typeof fetch = (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    url.host = host;
    return fetch(url, init);
  };
  const keys = await createKeyPool(1);
  device = createSimDevice({ platform: 'iOS', osVersion: '18.1', keys, fetch: toB });
  await device.enroll({ url: await simAdminApi(a.url, apiKey).mintEnrollmentUrl() });
  apns.register(device.pushToken);
}, 60_000);

afterAll(async () => {
  await b?.close(1000);
  await a?.close(1000);
  await apns.close();
  await rm(dir, { recursive: true, force: true });
});

test('ok/A pushes again after the device answered through B within the window', async () => {
  const before = pushed.length;
  const first = await queueThroughA();
  expect(await pushOutcome(first)).toBe('accepted');
  expect(pushed.length).toBe(before + 1);
  const session = await device.connect();
  expect(session).toMatchObject({ errors: [], requestTypes: { ProfileList: 1 } });
  const second = await queueThroughA();
  expect(await pushOutcome(second)).toBe('accepted');
  expect(pushed.length).toBe(before + 2);
  expect((await device.connect()).requestTypes).toEqual({ ProfileList: 1 });
});
