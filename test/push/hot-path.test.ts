import { createHook } from 'node:async_hooks';
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

/** Promises created while `fn` runs (async_hooks counts them, whoever creates them). */
async function promisesDuring(fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE') n++;
    },
  });
  hook.enable();
  try {
    await fn();
  } finally {
    hook.disable();
  }
  return n;
}

describe('APNs provider: the hot path', () => {
  test('ok/pushes answered 200 create no promise per push', async () => {
    const mock = await h.mock({ record: false });
    const provider = h.provider(mock, { poolSize: 1, coalesceWindowMs: 0 });
    await provider.push(targets(h.topic, 10));
    let sent = 0;
    const created = await promisesDuring(async () => {
      const results = await provider.push(targets(h.topic, 2000));
      sent = results.filter((r) => r.outcome === 'sent').length;
    });
    expect(sent).toBe(2000);
    // A handful per batch (the batch, its awaits), not one or more per push.
    expect(created).toBeLessThan(50);
  });

  test('ok/a push in another batch joins the one in flight to the same device', async () => {
    const mock = await h.mock();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    mock.rule = () => ({ until: held });
    const provider = h.provider(mock, { coalesceWindowMs: 0 });
    const [t] = targets(h.topic, 1);
    const first = provider.push([t!]);
    while (mock.count === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = provider.push([t!, t!]);
    release();
    const outcomes = [...(await first), ...(await second)].map((r) => r.outcome);
    expect(outcomes).toEqual(['sent', 'coalesced', 'coalesced']);
    expect(mock.count).toBe(1);
  });

  test('fail/a retry loop that throws rejects every batch waiting on the push; the next push goes out', async () => {
    const mock = await h.mock();
    const boom = new Error('sleep failed');
    mock.rule = () => ({ status: 503, reason: 'ServiceUnavailable' });
    const provider = h.provider(
      mock,
      { coalesceWindowMs: 60_000 },
      { sleep: () => Promise.reject(boom) },
    );
    const t = { ...targets(h.topic, 1)[0]!, coalesceKey: 'command-a' };
    const batches = [provider.push([t, t]), provider.push([t])];
    for (const batch of batches) await expect(batch).rejects.toBe(boom);
    mock.rule = undefined;
    const [r] = await provider.push([t]);
    expect(r!.outcome).toBe('sent');
    expect(mock.count).toBe(2);
  });
});
