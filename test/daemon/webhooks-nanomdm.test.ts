/**
 * `--webhook-format nanomdm` on the real daemon: a device enrolls (Authenticate, TokenUpdate),
 * answers a command with its report and checks out; a receiver on 127.0.0.1 gets
 * MicroMDM/NanoMDM-shaped events whose `raw_payload` decodes to the device's plists, signed with
 * both `Orchard-Signature` and NanoMDM's `X-Hmac-Signature`, and the outbox holds them sealed.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodePlist, verifyWebhookSignature, type NanoMdmEvent } from '../../src/index.js';
import { startReceiver, type Receiver } from '../service/webhooks-receiver.js';
import { commandOf, expectOk, type DeviceEmulator } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';

const SECRET = randomBytes(32).toString('base64url');
let h: Harness;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 200 }));
  h = await startHarness({
    webhookUrl: receiver.url,
    webhookSecret: SECRET,
    webhookFormat: 'nanomdm',
  });
}, 120_000);

afterAll(async () => {
  await h.close();
  await receiver.close();
});

interface Delivery {
  event: NanoMdmEvent;
  raw: Record<string, unknown>;
  body: string;
  headers: Record<string, unknown>;
}

function deliveries(device: DeviceEmulator): Delivery[] {
  return receiver.received
    .map((r) => ({ ...r, event: JSON.parse(r.body) as NanoMdmEvent }))
    .filter((r) => (r.event.checkin_event ?? r.event.acknowledge_event)?.udid === device.keys.UDID)
    .map((r) => {
      const inner = r.event.checkin_event ?? r.event.acknowledge_event;
      const raw = decodePlist(Buffer.from(inner?.raw_payload ?? '', 'base64'));
      return {
        event: r.event,
        raw: raw as Record<string, unknown>,
        body: r.body,
        headers: r.headers,
      };
    });
}

/** Polls (a bounded number of times, never a deadline) until `count` events of `device` arrived. */
async function awaitDeliveries(device: DeviceEmulator, count: number): Promise<Delivery[]> {
  for (let i = 0; i < 2000; i++) {
    const got = deliveries(device);
    if (got.length >= count) return got;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`only ${deliveries(device).length} of ${count} events arrived`);
}

describe('daemon webhooks in the nanomdm format', () => {
  test('ok/enroll, a command report and CheckOut arrive as MicroMDM/NanoMDM events', async () => {
    const device = await h.device();
    const queued = await h.api('POST', `/api/v1/enrollments/${device.enrollmentId}/commands`, {
      RequestType: 'DeviceInformation',
      Queries: ['DeviceName'],
    });
    expect(queued.status).toBe(201);
    const uuid = queued.body.commandUuid as string;
    const next = await device.idle();
    expect(commandOf(next)?.uuid).toBe(uuid);
    expectOk(
      await device.answer(uuid, 'Acknowledged', { QueryResponses: { DeviceName: 'Emulated' } }),
      'report',
    );
    expectOk(await device.checkin('CheckOut', { Topic: h.topic }), 'CheckOut');

    const got = await awaitDeliveries(device, 5);
    const byTopic = (topic: string, status?: string): Delivery => {
      const found = got.find(
        (d) =>
          d.event.topic === topic &&
          (status === undefined || d.event.acknowledge_event?.status === status),
      );
      if (found === undefined) throw new Error(`no ${topic} ${status ?? ''} event`);
      return found;
    };
    const auth = byTopic('mdm.Authenticate');
    expect(auth.raw).toMatchObject({ MessageType: 'Authenticate', UDID: device.keys.UDID });
    expect(auth.event.checkin_event?.ids).toEqual({ id: device.enrollmentId, type: 'Device' });
    expect(auth.event.checkin_event?.url_params).toEqual({});
    const token = byTopic('mdm.TokenUpdate');
    expect(token.event.checkin_event?.token_update_tally).toBe(1);
    // Raw means raw: the UnlockToken travels as the device sent it (sealed at rest, below).
    expect(Buffer.from(token.raw.UnlockToken as Uint8Array).toString()).toBe('unlock-token');
    const idle = byTopic('mdm.Connect', 'Idle');
    expect(idle.event.acknowledge_event?.command_uuid).toBeUndefined();
    const ack = byTopic('mdm.Connect', 'Acknowledged');
    expect(ack.event.acknowledge_event?.command_uuid).toBe(uuid);
    expect(ack.raw).toMatchObject({
      CommandUUID: uuid,
      Status: 'Acknowledged',
      QueryResponses: { DeviceName: 'Emulated' },
    });
    expect(byTopic('mdm.CheckOut').raw).toMatchObject({ MessageType: 'CheckOut' });

    for (const d of got) {
      expect(typeof d.event.event_id).toBe('string');
      expect(Number.isNaN(Date.parse(d.event.created_at))).toBe(false);
      expect(d.headers['content-type']).toBe('application/json; charset=utf-8');
      const hmac = createHmac('sha256', SECRET).update(d.body).digest('base64');
      expect(d.headers['x-hmac-signature']).toBe(hmac);
      const signature = d.headers['orchard-signature'] as string;
      expect(verifyWebhookSignature(signature, d.body, SECRET)).toBe(true);
    }
    // Orchard's own events are not sent in this format.
    expect(receiver.received.every((r) => 'topic' in (JSON.parse(r.body) as object))).toBe(true);
  }, 60_000);

  test('ok/the outbox keeps the raw payloads sealed at rest', async () => {
    const device = await h.device();
    await awaitDeliveries(device, 2);
    const db = new Database(join(h.dataDir, 'orchard.db'), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT typeof(payload) AS kind, payload FROM outbox WHERE type LIKE 'mdm.%'")
        .all() as { kind: string; payload: Buffer }[];
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) {
        expect(row.kind).toBe('blob');
        expect(row.payload.includes('raw_payload')).toBe(false);
        expect(row.payload.includes(Buffer.from('unlock-token').toString('base64'))).toBe(false);
      }
    } finally {
      db.close();
    }
  }, 60_000);
});
