/**
 * The core's topic may be a function (the daemon passes one that follows the push provider), so
 * a push certificate replaced with a new topic applies to check-ins without a restart.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { startHarness, TOPIC, type Harness } from './harness.js';

const NEXT = 'com.apple.mgmt.External.00000000-0000-4000-8000-000000000002';

describe('topic as a function', () => {
  let h: Harness;
  let current = TOPIC;
  beforeAll(async () => {
    h = await startHarness(createMemoryStorage(), { core: { topic: () => current } });
  });
  afterAll(() => h.close());

  test('ok/check-ins follow the topic the function answers now', async () => {
    const before = await h.device();
    expect((await before.authenticate()).status).toBe(200);

    current = NEXT;
    const old = await h.device();
    const refused = await old.authenticate();
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'ERR_TOPIC' });

    const renewed = await h.device({ topic: NEXT });
    expect((await renewed.authenticate()).status).toBe(200);
  });
});
