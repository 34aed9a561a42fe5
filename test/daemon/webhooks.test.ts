/**
 * Webhooks and retention wired into the daemon: `--webhook-url`/`--webhook-secret` deliver the
 * signed `enrolled` event to a real receiver on 127.0.0.1, the signature verifies with the
 * shared secret, and an event written while the receiver is down survives a SIGTERM and a
 * restart and is delivered afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/index.js';
import { newTopic } from '../push/pki.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import type { DeviceEmulator } from '../support/device-emulator.js';
import { pushCertificateArgs, scepEnroller, type ScepEnroller } from './scep-enroll.js';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

const secret = randomBytes(32).toString('base64url');
const deliveries: Delivery[] = [];
let receiver: Server;
let port = 0;
let daemon: TestDaemon;
let enroller: ScepEnroller;
const topic = newTopic();

async function listen(): Promise<void> {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
}

async function closeReceiver(): Promise<void> {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
}

beforeAll(async () => {
  await listen();
  daemon = await spawnDaemon({
    args: [
      ...['--command-retention', '30d', '--webhook-url', `http://127.0.0.1:${port}/hook`],
      ...(await pushCertificateArgs(topic)),
    ],
    env: { ORCHARD_WEBHOOK_SECRET: secret },
  });
  enroller = await scepEnroller({ url: daemon.url, api: (...a) => daemon.api(...a), topic });
}, 90_000);

afterAll(async () => {
  await daemon.cleanup();
  await closeReceiver().catch(() => undefined);
});

/** A device enrolled as a real one is: an enrollment link, its profile, SCEP, check-ins. */
async function enrollDevice(): Promise<DeviceEmulator> {
  return (await enroller.enrollDevice()).device;
}

async function waitForEnrolled(id: string, timeoutMs: number): Promise<Delivery> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = deliveries.find(
      (d) =>
        d.headers['orchard-event-type'] === 'enrolled' &&
        (JSON.parse(d.body) as { enrollmentId: string }).enrollmentId === id,
    );
    if (found) return found;
    if (Date.now() > until)
      throw new Error(`no enrolled event for ${id}: ${deliveries.length} deliveries`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('daemon webhooks', () => {
  test('ok/an enrollment through the daemon delivers a signed enrolled event', async () => {
    const dev = await enrollDevice();
    const d = await waitForEnrolled(dev.enrollmentId, 15_000);
    const signature = d.headers['orchard-signature'] as string;
    expect(verifyWebhookSignature(signature, d.body, secret)).toBe(true);
    expect(verifyWebhookSignature(signature, d.body, `${secret}x`)).toBe(false);
    expect(verifyWebhookSignature(signature, d.body.replace('enrolled', 'enrolleD'), secret)).toBe(
      false,
    );
    expect(d.headers['orchard-event-id']).toMatch(/.+/);
  });

  test('ok/an event written while the receiver is down is delivered after a restart', async () => {
    await closeReceiver();
    const dev = await enrollDevice();
    // Let the worker fail at least once against the closed port.
    const until = Date.now() + 10_000;
    while (!daemon.stdout.some((l) => l.includes('"msg":"webhook retry"')) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    expect(daemon.stdout.some((l) => l.includes('"msg":"webhook retry"'))).toBe(true);
    expect(await daemon.kill('SIGTERM')).toBe(0);
    await listen();
    await daemon.restart();
    const d = await waitForEnrolled(dev.enrollmentId, 30_000);
    expect(verifyWebhookSignature(d.headers['orchard-signature'] as string, d.body, secret)).toBe(
      true,
    );
  }, 60_000);
});
