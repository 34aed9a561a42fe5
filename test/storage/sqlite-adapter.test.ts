/** SQLite-only behaviour: persistence, migrations, indexes, fault mapping. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from '@jest/globals';
import { createSqliteStorage, MIGRATIONS } from '../../src/storage/sqlite/index.js';
import { PENDING_STATUSES_SQL } from '../../src/storage/sqlite/migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-sqlite-adapter-'));
let n = 0;
const freshPath = (): string => join(dir, `db-${++n}.db`);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sqlite adapter', () => {
  test('ok/data survives close and reopen; migrations run once', async () => {
    const path = freshPath();
    const first = createSqliteStorage({ path });
    await first.storeTokenUpdate({
      id: 'A',
      type: 'device',
      deviceId: 'A',
      push: { token: 'ab', pushMagic: 'm', topic: 't' },
    });
    await first.enqueue({ uuid: 'c1', requestType: 'X', body: new Uint8Array([1, 2]) }, ['A']);
    await first.enqueueEvent({ id: 'e1', type: 'enrolled', payload: '{}', createdAt: new Date() });
    await first.close();
    await first.close();

    const second = createSqliteStorage({ path });
    expect((await second.findEnrollment('A'))?.enrolled).toBe(true);
    expect((await second.nextCommand('A', { skipNotNow: false, now: new Date() }))?.body).toEqual(
      new Uint8Array([1, 2]),
    );
    expect(await second.findOutboxEntry('e1')).toBeDefined();
    await second.close();

    const db = new Database(path, { readonly: true });
    const versions = db.prepare('SELECT version FROM schema_migrations').all();
    expect(versions).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  test('fail/a database from a newer Orchard is refused with ERR_STORAGE', async () => {
    const path = freshPath();
    await createSqliteStorage({ path }).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(999, 'future', 0);
    db.close();
    expect(() => createSqliteStorage({ path })).toThrow(/schema version 999 is newer/);
    expect(() => createSqliteStorage({ path })).toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE' }),
    );
  });

  test.each([
    [
      'fail/a file that is not a database',
      () => {
        const path = freshPath();
        writeFileSync(path, 'x'.repeat(4096));
        return path;
      },
    ],
    ['fail/a directory', () => dir],
    ['fail/a missing parent folder', () => join(dir, 'missing', 'db.db')],
  ])('%s gives ERR_STORAGE', (_name, makePath) => {
    expect(() => createSqliteStorage({ path: makePath() })).toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE', status: 503 }),
    );
  });

  test('fail/a driver fault mid-operation becomes a 503 StorageError, never a crash', async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path });
    await store.enqueue({ uuid: 'c1', requestType: 'X', body: new Uint8Array([1]) }, ['A']);
    const saboteur = new Database(path);
    saboteur.exec('DROP INDEX command_targets_pending; DROP TABLE command_targets;');
    saboteur.close();
    const outcome = store.nextCommand('A', { skipNotNow: false, now: new Date() });
    await expect(outcome).rejects.toMatchObject({
      code: 'ERR_STORAGE',
      status: 503,
      expose: false,
    });
    await store.close();
  });

  test('ok/next-command lookup and purge use their partial indexes', async () => {
    const path = freshPath();
    await createSqliteStorage({ path }).close();
    const db = new Database(path, { readonly: true });
    const plan = (sql: string): string =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
    const next = plan(
      `SELECT t.seq FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
       WHERE t.enrollment_id = 'A' AND t.seq > 0 AND t.status IN ${PENDING_STATUSES_SQL} ORDER BY t.seq LIMIT 16`,
    );
    expect(next).toContain('command_targets_pending');
    expect(next).not.toContain('TEMP B-TREE');
    expect(
      plan(
        `SELECT seq FROM command_targets WHERE status IN ('Acknowledged', 'Error', 'CommandFormatError', 'canceled', 'expired') AND updated_at < 5`,
      ),
    ).toContain('command_targets_finished');
    db.close();
  });

  test('ok/last-seen writes are buffered, read back at once, and flushed on close', async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path, lastSeenFlushMs: 60_000 });
    await store.storeAuthenticate({ id: 'A', type: 'device', deviceId: 'A', facts: {} });
    const at = new Date(Date.UTC(2026, 3, 1));
    await store.touchLastSeen(['A'], at);
    expect((await store.findEnrollment('A'))?.lastSeenAt).toEqual(at);
    const raw = new Database(path, { readonly: true });
    const read = () => raw.prepare('SELECT last_seen_at AS t FROM enrollments').get();
    expect(read()).toEqual({ t: null });
    await store.close();
    expect(read()).toEqual({ t: at.getTime() });
    raw.close();
  });

  test('ok/purgeFinished works through more rows than one batch', async () => {
    const store = createSqliteStorage({ path: freshPath() });
    const ids = Array.from({ length: 4500 }, (_, i) => `E${i}`);
    const expiresAt = new Date(Date.UTC(2026, 0, 1));
    await store.enqueue(
      { uuid: 'big', requestType: 'X', body: new Uint8Array([1]), expiresAt },
      ids,
    );
    await store.enqueue({ uuid: 'keep', requestType: 'X', body: new Uint8Array([2]) }, ['E1']);
    expect(await store.expireCommands(new Date(expiresAt.getTime() + 1))).toBe(4500);
    expect(await store.purgeFinished(new Date(Date.now() + 60_000))).toBe(4500);
    expect(await store.findCommand('big')).toBeUndefined();
    expect((await store.findCommand('keep'))?.targets).toHaveLength(1);
    await store.close();
  });

  test('ok/two handles on one file claim disjoint outbox entries', async () => {
    const path = freshPath();
    const a = createSqliteStorage({ path });
    const b = createSqliteStorage({ path });
    const now = new Date();
    for (let i = 0; i < 20; i++) {
      await a.enqueueEvent({ id: `e${i}`, type: 't', payload: '{}', createdAt: now });
    }
    const claims = await Promise.all([
      a.claimDue(7, now, 1000),
      b.claimDue(7, now, 1000),
      a.claimDue(7, now, 1000),
    ]);
    const ids = claims.flat().map((e) => e.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    await a.close();
    await b.close();
  });

  test.each([
    ['fail/an empty path', { path: '' }],
    ['fail/a negative flush interval', { path: join(dir, 'never.db'), lastSeenFlushMs: -1 }],
  ])('%s is a TypeError', (_name, options) => {
    expect(() => createSqliteStorage(options)).toThrow(TypeError);
    expect(existsSync(join(dir, 'never.db'))).toBe(false);
  });
});
