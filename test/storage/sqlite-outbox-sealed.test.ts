/**
 * Webhook event payloads in the SQLite outbox are sealed with the secrets keyring (the `nanomdm`
 * format carries raw check-ins, UnlockTokens and bootstrap tokens included): bound to their
 * event, sealed in place when a plain-text database gets a key, re-sealed on rotation, and left
 * as text without a key.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from '@jest/globals';
import { addSecretsKey, createSecretsKeyring } from '../../src/index.js';
import { createSqliteStorage, type SqliteStorage } from '../../src/storage/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-outbox-sealed-'));
let n = 0;
const freshPath = (): string => join(dir, `db-${++n}.db`);
const KEY = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(9) }]);
const SECRET = 'UNLOCK-TOKEN-IN-A-RAW-PAYLOAD-0001';
const AT = new Date('2026-03-01T12:00:00.000Z');

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const payloadOf = (id: string): string => JSON.stringify({ topic: 'mdm.TokenUpdate', id, SECRET });

async function enqueue(store: SqliteStorage, id: string): Promise<void> {
  await store.enqueueEvent({ id, type: 'mdm.TokenUpdate', payload: payloadOf(id), createdAt: AT });
}

function rawPayload(path: string, id: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT payload FROM outbox WHERE id = ?').get(id) as { payload: unknown })
      .payload;
  } finally {
    db.close();
  }
}

function fileBytes(path: string): Buffer {
  return Buffer.concat(
    ['', '-wal'].map((s) => {
      try {
        return readFileSync(path + s);
      } catch {
        return Buffer.alloc(0);
      }
    }),
  );
}

describe('sqlite outbox payloads at rest', () => {
  test('ok/with a key a payload is stored sealed and read back in clear', async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path, secrets: KEY });
    await enqueue(store, 'evt-1');
    expect((await store.findOutboxEntry('evt-1'))?.payload).toBe(payloadOf('evt-1'));
    const [claimed] = await store.claimDue(10, AT, 60_000);
    expect(claimed?.payload).toBe(payloadOf('evt-1'));
    await store.close();
    const raw = rawPayload(path, 'evt-1');
    expect(raw).toBeInstanceOf(Uint8Array);
    expect(KEY.keyIdOf(raw as Uint8Array)).toBe(1);
    expect(fileBytes(path).includes(SECRET)).toBe(false);
  });

  test("fail/a payload copied into another event's row does not open (ERR_SECRET_OPEN)", async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path, secrets: KEY });
    await enqueue(store, 'evt-a');
    await enqueue(store, 'evt-b');
    await store.close();
    const db = new Database(path);
    db.prepare(
      "UPDATE outbox SET payload = (SELECT payload FROM outbox WHERE id = 'evt-a') WHERE id = 'evt-b'",
    ).run();
    db.close();
    const reopened = createSqliteStorage({ path, secrets: KEY });
    await expect(reopened.findOutboxEntry('evt-b')).rejects.toMatchObject({
      code: 'ERR_SECRET_OPEN',
    });
    expect((await reopened.findOutboxEntry('evt-a'))?.payload).toBe(payloadOf('evt-a'));
    await reopened.close();
  });

  test('ok/without a key payloads stay text; the first open with a key seals them in place', async () => {
    const path = freshPath();
    const plain = createSqliteStorage({ path });
    await enqueue(plain, 'evt-old');
    await plain.close();
    expect(rawPayload(path, 'evt-old')).toBe(payloadOf('evt-old'));
    const keyed = createSqliteStorage({ path, secrets: KEY });
    expect((await keyed.findOutboxEntry('evt-old'))?.payload).toBe(payloadOf('evt-old'));
    await keyed.close();
    expect(KEY.keyIdOf(rawPayload(path, 'evt-old') as Uint8Array)).toBe(1);
    expect(fileBytes(path).includes(SECRET)).toBe(false);
  });

  test('ok/rotation re-seals undelivered and delivered payloads under the new key', async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path, secrets: KEY });
    await enqueue(store, 'evt-1');
    await enqueue(store, 'evt-2');
    await store.markDelivered('evt-1', AT);
    await store.close();
    const next = addSecretsKey(KEY);
    const rotating = createSqliteStorage({ path, secrets: next });
    expect(await rotating.resealSecrets()).toMatchObject({ webhookEvents: 2 });
    expect(await rotating.resealSecrets()).toMatchObject({ webhookEvents: 0 });
    expect((await rotating.findOutboxEntry('evt-2'))?.payload).toBe(payloadOf('evt-2'));
    await rotating.close();
    expect(next.keyIdOf(rawPayload(path, 'evt-2') as Uint8Array)).toBe(2);
  });
});
