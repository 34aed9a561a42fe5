/**
 * SECURITY.md "one device reading another's data", through the daemon: device A presenting its
 * own identity but B's UDID (bootstrap token, declarations, command polling) is refused before
 * any lookup, with the same answer whether B exists or not, so ids reveal nothing; never 401.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DeviceEmulator, type EmulatorResponse } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let a: DeviceEmulator;
let b: DeviceEmulator;

beforeAll(async () => {
  h = await startHarness();
  [a, b] = [await h.device(), await h.device()];
  // B has a queued command A must never see.
  await h.api('POST', `/api/v1/enrollments/${b.enrollmentId}/commands`, {
    RequestType: 'DeviceInformation',
    Queries: ['DeviceName'],
  });
}, 60_000);

afterAll(async () => {
  await h.close();
});

/** A's identity claiming another UDID. */
const as = (udid: string): DeviceEmulator =>
  new DeviceEmulator({ ...a.options, keys: { UDID: udid } });

const view = (r: EmulatorResponse) => ({ status: r.status, body: r.body.toString() });

const ASKS: [string, (d: DeviceEmulator) => Promise<EmulatorResponse>][] = [
  ['GetBootstrapToken', (d) => d.checkin('GetBootstrapToken')],
  ['a declaration', (d) => d.checkin('DeclarativeManagement', { Endpoint: 'declaration-items' })],
  ['its next command (Idle)', (d) => d.idle()],
  ['TokenUpdate (push hijack)', (d) => d.tokenUpdate()],
];

describe("a device asking for another device's data", () => {
  test.each(ASKS)("fail/%s with B's UDID is refused like an unknown UDID", async (_n, ask) => {
    const theirs = await ask(as(b.keys.UDID ?? ''));
    const unknown = await ask(as(randomUUID().toUpperCase()));
    expect(theirs.status).toBeGreaterThanOrEqual(400);
    expect(theirs.status).toBeLessThan(500);
    expect(theirs.status).not.toBe(401);
    expect(theirs.plist).toBeUndefined();
    expect(view(theirs)).toEqual(view(unknown));
  });

  test('ok/B still gets its own command afterwards', async () => {
    const idle = await b.idle();
    expect(idle.plist?.Command).toMatchObject({ RequestType: 'DeviceInformation' });
  });
});
