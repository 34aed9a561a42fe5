/**
 * `withNanoMdmWebhook`: every check-in and report the wrapped core accepts writes one
 * MicroMDM/NanoMDM-shaped event to the outbox, whose keys and types match the documented
 * examples in fixtures/webhooks and whose `raw_payload` is the exact body; and the `nanomdm`
 * delivery format adds NanoMDM's `X-Hmac-Signature` and content type.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeCheckin } from '../../src/protocol/checkin.js';
import { decodeReport } from '../../src/protocol/command.js';
import { resolveEnrollment } from '../../src/protocol/enrollment-id.js';
import { decodePlist } from '../../src/protocol/plist.js';
import { createTokenSealer } from '../../src/service/bootstrap.js';
import { createMdmCore } from '../../src/service/core.js';
import type { MdmResponse, MdmService } from '../../src/service/ports.js';
import { dispatchCheckin } from '../../src/service/handler.js';
import {
  createOutboxWorker,
  nanoMdmHmac,
  verifyWebhookSignature,
  withNanoMdmWebhook,
  type NanoMdmEvent,
} from '../../src/service/webhooks.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { MdmStorage } from '../../src/storage/ports.js';
import { startReceiver } from './webhooks-receiver.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const AT = new Date('2026-03-01T12:00:00.000Z');
const SECRET = 'nanomdm-webhook-secret-0123456789abcdef';

interface ShapeExample {
  name: string;
  topic: string;
  event: 'checkin_event' | 'acknowledge_event';
  shape: Record<string, unknown>;
  raw_payload_keys: string[];
}
const SHAPES = JSON.parse(
  readFileSync(new URL('webhooks/nanomdm-shapes.json', FIXTURES), 'utf8'),
) as {
  examples: ShapeExample[];
  schema: { topics: string[]; ids: { types: string[] } };
  consumer: { shape: Record<string, unknown> };
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function setup(next?: (core: MdmService) => MdmService): {
  storage: MdmStorage;
  service: MdmService;
} {
  const storage = createMemoryStorage();
  cleanups.push(() => storage.close());
  const core = createMdmCore(
    { storage, bootstrapSealer: createTokenSealer(new Uint8Array(32).fill(3)) },
    // The default GetToken answer is 404 (no token service): a service of our own answers.
    { outbox: false, getToken: () => Promise.resolve({ status: 200 }) },
  );
  cleanups.push(() => core.close());
  let n = 0;
  const service = withNanoMdmWebhook(next ? next(core) : core, {
    outbox: storage,
    enrollments: storage,
    clock: () => AT,
    newId: () => `evt-${String(++n)}`,
  });
  return { storage, service };
}

function message(name: string): Buffer {
  return readFileSync(new URL(`messages/${name}`, FIXTURES));
}

/** Sends a fixture message (check-in or report) through the service as the handler would. */
async function send(service: MdmService, name: string): Promise<MdmResponse> {
  const body = message(name);
  if (name.startsWith('report-')) {
    const report = decodeReport(body);
    return service.commandReport({ enrollment: resolveEnrollment(report), body }, report);
  }
  const decoded = decodeCheckin(body);
  if (!decoded.known) throw new Error(`unknown check-in in ${name}`);
  const msg = decoded.message;
  return dispatchCheckin(service, { enrollment: resolveEnrollment(msg), body }, msg);
}

async function events(storage: MdmStorage): Promise<NanoMdmEvent[]> {
  const entries = await storage.claimDue(1000, new Date(AT.getTime() + 1000), 60_000);
  return entries.map((e) => {
    const event = JSON.parse(e.payload) as NanoMdmEvent;
    expect(e.type).toBe(event.topic);
    expect(e.id).toBe(event.event_id);
    return event;
  });
}

function bodyOf(e: NanoMdmEvent): Record<string, unknown> {
  const body = e.checkin_event ?? e.acknowledge_event;
  if (body === undefined) throw new Error(`${e.topic} has no event body`);
  return body as unknown as Record<string, unknown>;
}

/** True when `value` is of the documented `type` (see the legend in nanomdm-shapes.json). */
function hasType(value: unknown, type: unknown): boolean {
  if (typeof type === 'object' && type !== null) {
    if (typeof value !== 'object' || value === null) return false;
    return Object.entries(type).every(([k, t]) =>
      hasType((value as Record<string, unknown>)[k], t),
    );
  }
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'rfc3339':
      return typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value);
    case 'base64-plist':
      return (
        typeof value === 'string' &&
        /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)
      );
    // MicroMDM sent `null` for no parameters and NanoMDM leaves the key out; we send an empty
    // object of strings, which NanoMDM's schema requires and a Go map or Python dict reads alike.
    case 'null':
    case 'object<string,string>':
      return (
        typeof value === 'object' &&
        value !== null &&
        Object.values(value).every((v) => typeof v === 'string')
      );
    default:
      throw new Error(`unknown type ${String(type)}`);
  }
}

const CHECKINS: [string, string][] = [
  ['checkin-authenticate-ios.plist', 'mdm.Authenticate'],
  ['checkin-tokenupdate-ios.plist', 'mdm.TokenUpdate'],
  ['checkin-userauthenticate-1.plist', 'mdm.UserAuthenticate'],
  ['checkin-setbootstraptoken.plist', 'mdm.SetBootstrapToken'],
  ['checkin-getbootstraptoken.plist', 'mdm.GetBootstrapToken'],
  ['checkin-declarativemanagement-tokens.plist', 'mdm.DeclarativeManagement'],
  ['checkin-gettoken.plist', 'mdm.GetToken'],
  ['report-idle.plist', 'mdm.Connect'],
  ['report-deviceinformation.bplist', 'mdm.Connect'],
  ['checkin-checkout.bplist', 'mdm.CheckOut'],
];

describe('withNanoMdmWebhook', () => {
  test('ok/one event per accepted message, raw_payload the exact body (XML or binary)', async () => {
    const { storage, service } = setup();
    for (const [name] of CHECKINS) await send(service, name);
    const got = await events(storage);
    expect(got.map((e) => e.topic)).toEqual(CHECKINS.map(([, topic]) => topic));
    for (const [i, [name]] of CHECKINS.entries()) {
      const e = got[i] as NanoMdmEvent;
      const raw = Buffer.from(bodyOf(e).raw_payload as string, 'base64');
      expect(raw.equals(message(name))).toBe(true);
      expect(SHAPES.schema.topics).toContain(e.topic);
      expect(e.created_at).toBe(AT.toISOString());
    }
  });

  test.each(SHAPES.examples.map((x) => [x.name, x] as const))(
    'ok/the same keys and types as %s',
    async (_name, example) => {
      const { storage, service } = setup();
      for (const [name] of CHECKINS) await send(service, name);
      const candidates = (await events(storage)).filter(
        (e) => e.topic === example.topic && example.event in e,
      );
      // The keys that say what the plist is must be there; the rest depend on the device.
      const telling = ['MessageType', 'Status', 'CommandUUID', 'UDID'].filter((k) =>
        example.raw_payload_keys.includes(k),
      );
      const ours = candidates.find((e) => {
        const raw = decodePlist(Buffer.from(bodyOf(e).raw_payload as string, 'base64'));
        return telling.every((k) => k in (raw as object));
      });
      expect(ours).toBeDefined();
      for (const [key, type] of Object.entries(example.shape)) {
        const value = (ours as unknown as Record<string, unknown>)[key];
        expect([key, hasType(value, type)]).toEqual([key, true]);
      }
    },
  );

  test("ok/mdmdirector's structs find every field they decode", async () => {
    const { storage, service } = setup();
    for (const [name] of CHECKINS) await send(service, name);
    const { checkin_event: checkin, acknowledge_event: ack, ...top } = SHAPES.consumer.shape;
    for (const e of await events(storage)) {
      for (const [k, t] of Object.entries(top))
        expect(hasType(e[k as keyof NanoMdmEvent], t)).toBe(true);
      const inner = e.checkin_event ? checkin : ack;
      for (const [k, t] of Object.entries(inner as Record<string, unknown>)) {
        if (k === 'command_uuid' && e.acknowledge_event?.status === 'Idle') continue;
        expect([e.topic, k, hasType(bodyOf(e)[k], t)]).toEqual([e.topic, k, true]);
      }
    }
  });

  test('ok/TokenUpdate carries token_update_tally, 1 for the enrollment then 2', async () => {
    const { storage, service } = setup();
    await send(service, 'checkin-authenticate-ios.plist');
    await send(service, 'checkin-tokenupdate-ios.plist');
    await send(service, 'checkin-tokenupdate-ios.bplist');
    const tallies = (await events(storage)).map((e) => e.checkin_event?.token_update_tally);
    expect(tallies).toEqual([undefined, 1, 2]);
  });

  test.each<[string, { type: string; parent?: boolean }, 'udid' | 'eid']>([
    ['checkin-authenticate-ios.plist', { type: 'Device' }, 'udid'],
    ['checkin-tokenupdate-macos-user.plist', { type: 'User', parent: true }, 'udid'],
    ['checkin-tokenupdate-shared-ipad-user.plist', { type: 'Shared iPad', parent: true }, 'udid'],
    ['checkin-authenticate-user-enrollment.plist', { type: 'User Enrollment (Device)' }, 'eid'],
    [
      'checkin-tokenupdate-macos-user-enrollment-user.plist',
      { type: 'User Enrollment', parent: true },
      'eid',
    ],
  ])('ok/ids of %s', async (name, ids, key) => {
    const { storage, service } = setup();
    await send(service, name);
    const [e] = await events(storage);
    const body = e?.checkin_event;
    expect(SHAPES.schema.ids.types).toContain(body?.ids.type);
    expect(body?.ids.type).toBe(ids.type);
    expect(body?.ids.parent_id !== undefined).toBe(ids.parent === true);
    const msg = decodeCheckin(message(name)).message;
    expect(body?.ids.id).toBe(resolveEnrollment(msg).id);
    if (key === 'udid') expect(body?.udid).toBe(msg.UDID);
    else expect([body?.udid, body?.enrollment_id]).toEqual([undefined, msg.EnrollmentID]);
  });

  test('ok/a report: status and command_uuid, none on Idle', async () => {
    const { storage, service } = setup();
    await send(service, 'checkin-authenticate-ios.plist');
    await send(service, 'checkin-tokenupdate-ios.plist');
    await send(service, 'report-idle.plist');
    await send(service, 'report-deviceinformation.plist');
    const [idle, info] = (await events(storage)).slice(2).map((e) => e.acknowledge_event);
    expect(idle?.status).toBe('Idle');
    expect(idle && 'command_uuid' in idle).toBe(false);
    const report = decodeReport(message('report-deviceinformation.plist'));
    expect(info?.status).toBe(report.Status);
    expect(info?.command_uuid).toBe(report.CommandUUID);
    const raw = decodePlist(Buffer.from(info?.raw_payload ?? '', 'base64')) as Record<
      string,
      unknown
    >;
    expect(raw.QueryResponses).toEqual(report.QueryResponses);
  });

  test('fail/a message the wrapped service refuses writes no event', async () => {
    const { storage, service } = setup((core) => ({
      ...core,
      authenticate: () => Promise.reject(new Error('refused')),
    }));
    await expect(send(service, 'checkin-authenticate-ios.plist')).rejects.toThrow('refused');
    expect(await events(storage)).toEqual([]);
  });

  test('fail/a failed outbox write rejects, so the device is answered 5xx and retries', async () => {
    const storage = createMemoryStorage();
    cleanups.push(() => storage.close());
    const core = createMdmCore({ storage }, { outbox: false });
    cleanups.push(() => core.close());
    const service = withNanoMdmWebhook(core, {
      outbox: { enqueueEvent: () => Promise.reject(new Error('disk full')) },
    });
    await expect(send(service, 'checkin-authenticate-ios.plist')).rejects.toThrow('disk full');
  });
});

describe('nanomdm delivery format', () => {
  test.each([
    ['nanomdm' as const, 'application/json; charset=utf-8', true],
    ['orchard' as const, 'application/json', false],
  ])('ok/%s: content type %s, X-Hmac-Signature %s', async (format, type, hmac) => {
    const { storage, service } = setup();
    await send(service, 'checkin-authenticate-ios.plist');
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanups.push(() => receiver.close());
    const worker = createOutboxWorker({
      store: storage,
      url: receiver.url,
      secret: SECRET,
      format,
      clock: () => new Date(AT.getTime() + 1000),
    });
    expect((await worker.runOnce()).delivered).toBe(1);
    const [r] = receiver.received;
    expect(r?.headers['content-type']).toBe(type);
    const body = r?.body ?? '';
    expect(
      verifyWebhookSignature(r?.headers['orchard-signature'] as string, body, SECRET, {
        clock: () => AT,
      }),
    ).toBe(true);
    const header = r?.headers['x-hmac-signature'];
    expect(header !== undefined).toBe(hmac);
    if (hmac) {
      // As NanoMDM's own test checks it: base64 of HMAC-SHA256 of the body.
      const expected = createHmac('sha256', SECRET).update(body).digest();
      expect(Buffer.from(header as string, 'base64').equals(expected)).toBe(true);
      expect(header).toBe(nanoMdmHmac(body, SECRET));
    }
  });

  test('fail/an unknown format is a TypeError', () => {
    const storage = createMemoryStorage();
    cleanups.push(() => storage.close());
    expect(() =>
      createOutboxWorker({
        store: storage,
        url: 'http://127.0.0.1:9/h',
        secret: SECRET,
        format: 'micromdm' as 'nanomdm',
      }),
    ).toThrow(TypeError);
  });
});
