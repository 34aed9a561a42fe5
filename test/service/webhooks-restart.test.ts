import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from '@jest/globals';
import { createOutboxWorker, verifyWebhookSignature } from '../../src/service/webhooks.js';
import { createSqliteStorage } from '../../src/storage/sqlite/index.js';
import { startReceiver, waitFor } from './webhooks-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-webhooks-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('ok/a worker killed mid-delivery loses nothing: a restarted worker delivers every event', async () => {
  const path = join(dir, 'outbox.db');
  const store = createSqliteStorage({ path });
  const ids = Array.from({ length: 20 }, (_, i) => `evt-${String(i).padStart(2, '0')}`);
  const t0 = Date.now();
  for (const [i, id] of ids.entries()) {
    await store.enqueueEvent({
      id,
      type: 'enrolled',
      payload: JSON.stringify({ id }),
      createdAt: new Date(t0 + i),
    });
  }
  // Phase 1: the receiver hangs, so the child holds 5 leased entries when it is killed.
  let phase = 1;
  const receiver = await startReceiver(() => (phase === 1 ? 'hang' : { status: 200 }));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./webhooks-child.ts', import.meta.url)),
      path,
      receiver.url,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => {
      resolve(signal);
    }),
  );
  try {
    await waitFor(() => receiver.received.length === 5, 20_000);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const leased = await Promise.all(ids.slice(0, 5).map((id) => store.findOutboxEntry(id)));
    expect(leased.every((e) => e?.attempts === 1 && e.deliveredAt === undefined)).toBe(true);

    // Phase 2: a fresh worker (another store handle on the same file) once the leases lapse.
    phase = 2;
    const restarted = createSqliteStorage({ path });
    const worker = createOutboxWorker({
      store: restarted,
      url: receiver.url,
      secret: 'restart-secret',
      // Generous timeout and lease: on a loaded machine a slow answer must not lapse a lease or
      // count as a failure, either of which would (rightly, at least once) deliver it again.
      timeoutMs: 15_000,
      leaseMs: 60_000,
      pollIntervalMs: 20,
      clock: () => new Date(Date.now() + 6000),
    });
    worker.start();
    await waitFor(
      async () =>
        (await Promise.all(ids.map((id) => restarted.findOutboxEntry(id)))).every(
          (e) => e?.deliveredAt !== undefined,
        ),
      20_000,
    );
    await worker.stop();
    await restarted.close();

    // Concurrent sends arrive in any order: compare as sets, attempts per id.
    const delivered = receiver.received.slice(5);
    const attemptById = new Map(
      delivered.map((r) => [r.headers['orchard-event-id'], r.headers['orchard-delivery-attempt']]),
    );
    expect(delivered).toHaveLength(20);
    expect([...attemptById.keys()].sort()).toEqual(ids);
    for (const id of ids) expect(attemptById.get(id)).toBe(ids.indexOf(id) < 5 ? '2' : '1');
    for (const r of delivered) {
      const signature = r.headers['orchard-signature'] as string;
      expect(
        verifyWebhookSignature(signature, r.body, 'restart-secret', {
          clock: () => new Date(Date.now() + 6000),
        }),
      ).toBe(true);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await receiver.close();
    await store.close();
  }
});
