/**
 * A fleet of real simulated devices against the daemon with a small connection cap
 * (`--max-connections 8`): a command queued to every device and a push to each at once. The
 * fleet runs at most `sessions` sessions at once, so it keeps within the cap and every device
 * answers without an error; unbounded, thirty sessions at once opened thirty connections and the
 * daemon refused those past its cap (`fetch failed`, a reset, at the device).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  createFleet,
  createKeyPool,
  createSimDevice,
  type SimKeyPool,
} from '../../src/sim/index.js';
import { startHarness, type Harness } from '../daemon/harness.js';

const DEVICES = 30;
let h: Harness;
let keys: SimKeyPool;

beforeAll(async () => {
  [h, keys] = await Promise.all([startHarness({ maxConnections: '8' }), createKeyPool(2)]);
}, 60_000);
afterAll(async () => {
  await h.close();
});

describe('a fleet against a daemon capped at 8 connections', () => {
  test('ok/a command to every device, pushed to all at once, answered by each without errors', async () => {
    const fleet = createFleet({
      devices: DEVICES,
      concurrency: 2,
      sessions: 3,
      enrollmentUrl: async () => {
        const link = await h.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
        expect(link.status).toBe(201);
        return link.body.url as string;
      },
      createDevice: createSimDevice,
      deviceOptions: { keys },
      afterEnroll: async (f) => {
        const enrollmentIds = f.devices.map((d) => d.enrollmentId ?? d.udid);
        const command = { RequestType: 'ProfileList' };
        const queued = await h.api('POST', '/api/v1/commands', { enrollmentIds, command });
        expect(queued.status).toBe(201);
        for (const d of f.devices) f.push(d.pushToken);
        await f.settled();
      },
    });
    const summary = await fleet.run();
    expect(summary.errors).toEqual({ count: 0, first: [] });
    expect(summary).toMatchObject({ devices: DEVICES, enrolled: DEVICES, failed: 0 });
    expect(summary.requestTypes).toEqual({ ProfileList: DEVICES });
    expect(summary.commands).toEqual({ Acknowledged: DEVICES });
  }, 120_000);
});
