/**
 * `core.unenroll(id)` is announced like a device's CheckOut: one `checked-out` event to the
 * listeners and the outbox, written with the state change; nothing for an absent or an
 * already checked-out enrollment.
 */
import { expect, test } from '@jest/globals';
import { createMdmCore } from '../../src/service/core.js';
import type { MdmEvent } from '../../src/service/events.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';

async function setup() {
  const clock = () => new Date('2026-12-06T00:00:00Z');
  const storage = createMemoryStorage({ clock });
  const core = createMdmCore({ storage, clock }, { outbox: true });
  const events: MdmEvent[] = [];
  core.events.on('*', (e) => events.push(e));
  await storage.storeAuthenticate({ id: 'U1', type: 'device', deviceId: 'U1', facts: {} });
  await storage.storeTokenUpdate({
    id: 'U1',
    type: 'device',
    deviceId: 'U1',
    push: { token: 'aa', pushMagic: 'm', topic: 't' },
    facts: {},
  });
  return { storage, core, events };
}

test('ok/unenroll emits checked-out to listeners and the outbox', async () => {
  const { storage, core, events } = await setup();
  expect(await core.unenroll('U1')).toBe(true);
  expect(events.map((e) => [e.type, e.enrollmentId])).toEqual([['checked-out', 'U1']]);
  const claimed = await storage.claimDue(10, new Date('2026-12-07T00:00:00Z'), 1000);
  expect(claimed.map((e) => e.type)).toEqual(['checked-out']);
  await core.close();
});

test('fail/unenroll of an absent enrollment is false and emits nothing', async () => {
  const { core, events } = await setup();
  expect(await core.unenroll('NOPE')).toBe(false);
  expect(events).toEqual([]);
  await core.close();
});

test('fail/unenroll of an enrollment already checked out emits nothing more', async () => {
  const { storage, core, events } = await setup();
  await core.unenroll('U1');
  await core.unenroll('U1');
  expect(events.map((e) => e.type)).toEqual(['checked-out']);
  expect(await storage.claimDue(10, new Date('2026-12-07T00:00:00Z'), 1000)).toHaveLength(1);
  await core.close();
});
