/**
 * `orchard serve` on a data directory written by Orchard 0.1: it starts, the device enrolled then
 * authenticates with its certificate and gets the command still queued for it, the old API keys
 * open the admin API, and the challenge a link handed out then still buys a certificate.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startHarness, type Harness } from '../daemon/harness.js';
import { scepEnroller } from '../daemon/scep-enroll.js';
import { commandOf, DeviceEmulator } from '../support/device-emulator.js';
import { copyDataDir, manifest as m, type DataDirCopy } from './datadir-fixture.js';

let copy: DataDirCopy;
let h: Harness;
let clock: () => Date;

beforeAll(async () => {
  copy = copyDataDir();
  // The daemon's clock runs from a minute after the fixture was made, so its certificates and
  // the outstanding challenge are as fresh as they were then, whenever this runs; the device
  // enrolling below signs at that time too (a day later its signing time was refused as skew).
  const offset = new Date(m.madeAt).getTime() + 60_000 - Date.now();
  clock = () => new Date(Date.now() + offset);
  h = await startHarness(
    {
      dataDir: copy.dir,
      pushCert: join(copy.dir, 'push.pem'),
      pushKey: join(copy.dir, 'push.key'),
    },
    { clock },
  );
});

afterAll(async () => {
  await h.close();
  copy.remove();
});

describe('the daemon on a 0.1 data directory', () => {
  test('ok/the enrolled device authenticates and gets its queued command', async () => {
    const device = new DeviceEmulator({
      baseUrl: h.daemon.url,
      topic: m.topic,
      keys: { UDID: m.udid },
      identity: {
        certificate: new X509Certificate(readFileSync(join(copy.dir, 'device.pem'))),
        privateKey: createPrivateKey(readFileSync(join(copy.dir, 'device.key'))),
      },
    });
    const answer = await device.idle();
    expect(answer.status).toBe(200);
    expect(commandOf(answer)).toEqual({ uuid: m.queuedCommand, requestType: 'ProfileList' });
  });

  test('ok/the API keys made under 0.1 open the admin API', async () => {
    const admin = await h.api('GET', `/api/v1/enrollments/${m.udid}`, undefined, m.adminApiKey);
    expect(admin).toMatchObject({ status: 200, body: { id: m.udid, enrolled: true } });
    const reader = await h.api('GET', '/api/v1/audit?limit=100', undefined, m.readApiKey);
    expect(reader.status).toBe(200);
    expect(reader.body.items.length).toBeGreaterThanOrEqual(11);
  });

  test("ok/a link's outstanding challenge still buys a certificate from the same CA", async () => {
    const scep = await scepEnroller(h, fetch, clock);
    const { certificate } = await scep.certificateFor(m.outstandingChallenge);
    expect(certificate.checkIssued(scep.ca)).toBe(true);
    const links = await h.api('GET', '/api/v1/enrollment-tokens');
    const link = (links.body.items as { id: string }[]).find((l) => l.id === m.multiUseLinkId);
    expect(link).toMatchObject({ enrollments: 2 });
  });
});
