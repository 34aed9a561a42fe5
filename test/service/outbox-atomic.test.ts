/**
 * The core writes an enrollment's `enrolled`, `token-updated` and `checked-out` events in the
 * same transaction as the state change they report. Fault injection: the event id the core will
 * use is already in the outbox, so the event write fails; the TokenUpdate must then leave the
 * enrollment unenrolled, and the device's retry must still report `enrolled` (before, the
 * enrollment committed first and the retry reported `token-updated`: the `enrolled` event was lost).
 */
import { describe, expect, test } from '@jest/globals';
import type { TokenUpdateMessage } from '../../src/protocol/checkin.js';
import { createMdmCore } from '../../src/service/core.js';
import type { MdmEvent } from '../../src/service/events.js';
import type { MdmRequest } from '../../src/service/ports.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { MdmStorage } from '../../src/storage/ports.js';
import { createSqliteStorage } from '../../src/storage/sqlite/index.js';

const TOPIC = 'com.apple.mgmt.External.test';
const AT = new Date(Date.UTC(2026, 0, 1));
const UDID = 'UDID-ATOMIC';
const req: MdmRequest = {
  enrollment: { id: UDID, type: 'device', deviceId: UDID },
  body: new Uint8Array(),
};
const tokenUpdate: TokenUpdateMessage = {
  MessageType: 'TokenUpdate',
  UDID,
  Topic: TOPIC,
  Token: new Uint8Array([0xaa, 0x01]),
  PushMagic: 'magic',
};

/** A core whose event ids come from `ids` in order, over `storage`. */
function coreOver(storage: MdmStorage, ids: string[]) {
  const events: MdmEvent[] = [];
  const core = createMdmCore(
    { storage, clock: () => AT, randomUUID: () => ids.shift() ?? 'exhausted' },
    { topic: TOPIC },
  );
  core.events.on('*', (e) => events.push(e));
  return { core, events };
}

describe.each([
  ['memory', () => createMemoryStorage({ clock: () => AT })],
  ['sqlite', () => createSqliteStorage({ path: ':memory:', clock: () => AT, lastSeenFlushMs: 0 })],
])('outbox atomicity through the core (%s)', (_name, open) => {
  test('fail/a TokenUpdate whose event cannot be written leaves the device unenrolled; the retry reports enrolled', async () => {
    const storage = open();
    const { core, events } = coreOver(storage, ['ev-taken', 'ev-retry']);
    await core.authenticate(req, { MessageType: 'Authenticate', UDID, Topic: TOPIC });
    await storage.enqueueEvent({ id: 'ev-taken', type: 'other', payload: '{}', createdAt: AT });

    await expect(core.tokenUpdate(req, tokenUpdate)).rejects.toBeInstanceOf(TypeError);
    expect(await storage.findEnrollment(UDID)).toMatchObject({
      enrolled: false,
      tokenUpdateCount: 0,
    });
    expect(await storage.findPushInfo([UDID])).toEqual([]);
    expect(events).toEqual([]);

    await core.tokenUpdate(req, tokenUpdate);
    expect(events.map((e) => [e.id, e.type])).toEqual([['ev-retry', 'enrolled']]);
    expect(JSON.parse((await storage.findOutboxEntry('ev-retry'))?.payload ?? '{}')).toMatchObject({
      type: 'enrolled',
      enrollmentId: UDID,
    });
    await core.close();
    await storage.close();
  });

  test('fail/a CheckOut whose event cannot be written leaves the device enrolled', async () => {
    const storage = open();
    const { core, events } = coreOver(storage, ['ev-1', 'ev-taken', 'ev-3']);
    await core.tokenUpdate(req, tokenUpdate);
    await storage.enqueueEvent({ id: 'ev-taken', type: 'other', payload: '{}', createdAt: AT });
    const checkOut = { MessageType: 'CheckOut', UDID, Topic: TOPIC } as const;

    await expect(core.checkOut(req, checkOut)).rejects.toBeInstanceOf(TypeError);
    expect((await storage.findEnrollment(UDID))?.enrolled).toBe(true);

    await core.checkOut(req, checkOut);
    expect((await storage.findEnrollment(UDID))?.enrolled).toBe(false);
    expect(events.map((e) => [e.id, e.type])).toEqual([
      ['ev-1', 'enrolled'],
      ['ev-3', 'checked-out'],
    ]);
    expect(await storage.findOutboxEntry('ev-3')).toMatchObject({ type: 'checked-out' });
    await core.close();
    await storage.close();
  });

  test('ok/with the outbox off, listeners still hear the change and nothing is written', async () => {
    const storage = open();
    const core = createMdmCore(
      { storage, clock: () => AT, randomUUID: () => 'ev-off' },
      { topic: TOPIC, outbox: false },
    );
    const heard: string[] = [];
    core.events.on('enrolled', (e) => heard.push(e.id));
    await core.tokenUpdate(req, tokenUpdate);
    expect(heard).toEqual(['ev-off']);
    expect(await storage.findOutboxEntry('ev-off')).toBeUndefined();
    await core.close();
    await storage.close();
  });
});
