import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { commandOf } from '../support/device-emulator.js';
import { startHarness, type Harness } from './harness.js';

describe('vertical slice over real HTTP (memory store)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(createMemoryStorage());
  });
  afterAll(() => h.close());

  test('ok/enroll, queue, poll, acknowledge', async () => {
    const dev = await h.device();
    await dev.enroll();
    const uuid = await h.core.enqueue([dev.enrollmentId], {
      RequestType: 'DeviceInformation',
      Queries: ['DeviceName'],
    });
    expect(h.pushes.at(-1)?.[0]?.token).toBe(dev.token.toString('hex'));
    const poll = await dev.idle();
    expect(poll.status).toBe(200);
    expect(commandOf(poll)).toEqual({ uuid, requestType: 'DeviceInformation' });
    const done = await dev.answer(uuid, 'Acknowledged', { QueryResponses: { DeviceName: 'x' } });
    expect(done.status).toBe(200);
    expect(done.body.length).toBe(0);
    const record = await h.core.findCommand(uuid);
    expect(record?.targets[0]?.status).toBe('Acknowledged');
    expect(h.events.map((e) => e.type)).toEqual(['enrolled', 'command-result']);
  });
});
