import { expect, test } from '@jest/globals';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { runStorageConformance } from './conformance.js';

runStorageConformance('memory', ({ clock }) => createMemoryStorage({ clock }));

test('ok/the retention sweep purges finished commands on its own', async () => {
  let now = Date.UTC(2026, 0, 1);
  const store = createMemoryStorage({
    clock: () => new Date(now),
    retention: { finishedCommandsMs: 1000, sweepIntervalMs: 20 },
  });
  await store.enqueue({ uuid: 'c1', requestType: 'X', body: new Uint8Array([1]) }, ['A']);
  await store.cancel('A', 'c1');
  now += 5000;
  // Wait for sweeps by count, not for a fixed time: a busy machine may delay a 20 ms timer.
  let polls = 0;
  while ((await store.findCommand('c1')) !== undefined && polls++ < 500)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(await store.findCommand('c1')).toBeUndefined();
  await store.close();
});
