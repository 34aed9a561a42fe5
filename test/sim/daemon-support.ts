/**
 * What the simulator's tests against the daemon harness share: a daemon with a key pool for the
 * whole file, a device enrolled from a fresh single-use link, a command queued through the admin
 * API, and a command's result read back.
 */
import { afterAll, beforeAll, expect } from '@jest/globals';
import {
  createKeyPool,
  createSimDevice,
  type SimDeviceOptions,
  type SimKeyPool,
} from '../../src/sim/index.js';
import { startHarness, type Harness } from '../daemon/harness.js';

/** An in-process daemon and the keys of the simulated devices that enroll in it. */
export interface SimDaemon {
  h: Harness;
  keys: SimKeyPool;
}

/**
 * Starts a daemon and a pool of `keyCount` device keys before the enclosing block's tests and
 * closes the daemon after them. The fields are set once the block's `beforeAll` has run.
 */
export function useSimDaemon(keyCount: number): SimDaemon {
  const sim = {} as SimDaemon;
  beforeAll(async () => {
    [sim.h, sim.keys] = await Promise.all([startHarness(), createKeyPool(keyCount)]);
  }, 60_000);
  afterAll(async () => {
    await sim.h.close();
  });
  return sim;
}

/** A simulated device (iOS 18.1 unless `options` say otherwise) enrolled from a new link. */
export async function enrolledSimDevice(
  h: Harness,
  keys: SimKeyPool,
  options: Partial<SimDeviceOptions> = {},
): Promise<ReturnType<typeof createSimDevice>> {
  const link = await h.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
  expect(link.status).toBe(201);
  const device = createSimDevice({ platform: 'iOS', osVersion: '18.1', keys, ...options });
  await device.enroll({ url: link.body.url as string });
  return device;
}

/** Queues `command` to enrollment `id` through the admin API; the command's uuid. */
export async function queueCommand(
  h: Harness,
  id: string,
  command: Record<string, unknown>,
): Promise<string> {
  const res = await h.api(
    'POST',
    `/api/v1/enrollments/${encodeURIComponent(id)}/commands`,
    command,
  );
  expect(res.status).toBe(201);
  return res.body.commandUuid as string;
}

/** The first target of command `uuid` as the admin API reports it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON
export async function commandTarget(h: Harness, uuid: string): Promise<any> {
  const read = await h.api('GET', `/api/v1/commands/${uuid}`);
  expect(read.status).toBe(200);
  return read.body.targets[0];
}
