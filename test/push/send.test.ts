import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createPushHarness, targets, type PushHarness } from './harness.js';

let h: PushHarness;
beforeAll(async () => {
  h = await createPushHarness();
});
afterEach(async () => {
  await h.cleanup();
});
afterAll(async () => {
  await h.cleanup();
});

describe('APNs provider: sending', () => {
  test('ok/sends headers and body exactly as APNs expects', async () => {
    const mock = await h.mock();
    const provider = h.provider(
      mock,
      { expirationSeconds: 3600 },
      { now: () => 1_700_000_000_000 },
    );
    const [target] = targets(h.topic, 1);
    const results = await provider.push([target!]);
    expect(results).toEqual([
      { enrollmentId: 'e0', outcome: 'sent', status: 200, apnsId: expect.any(String) },
    ]);
    expect(mock.violations).toEqual([]);
    expect(mock.pushes).toHaveLength(1);
    expect(mock.pushes[0]).toMatchObject({
      token: target!.token,
      topic: h.topic,
      pushMagic: 'magic-0',
    });
    expect(mock.pushes[0]!.apnsId).toBe(results[0]!.apnsId);
  });
});
