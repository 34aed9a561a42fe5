import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { startHarness, type Harness } from './harness.js';

describe('vertical slice over real HTTP (memory store)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(createMemoryStorage());
  });
  afterAll(() => h.close());

  test('ok/enroll, queue, poll, acknowledge', async () => {
    const dev = await h.simDevice();
    const uuid = await h.core.enqueue([dev.enrollmentId], {
      RequestType: 'DeviceInformation',
      Queries: ['DeviceName'],
    });
    expect(h.pushes.at(-1)?.[0]?.token).toBe(dev.pushToken);
    // One connection: Idle answered with the command, the acknowledgement answered empty.
    const session = await dev.connect();
    expect(session.errors).toEqual([]);
    expect(session.requestTypes).toEqual({ DeviceInformation: 1 });
    expect(session.commands).toEqual({ Acknowledged: 1 });
    expect(session.latenciesMs).toHaveLength(2);
    const record = await h.core.findCommand(uuid);
    expect(record?.targets[0]?.status).toBe('Acknowledged');
    expect(Buffer.from(record?.targets[0]?.result ?? []).toString()).toContain(dev.udid);
    expect(h.events.map((e) => e.type)).toEqual(['enrolled', 'command-result']);
  });
});
