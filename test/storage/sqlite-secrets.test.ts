/**
 * The SQLite adapter with a secrets keyring: UnlockTokens sealed at rest, a plain-text database
 * sealed in place, a wrong or missing key refused at open, values bound to their row, rotation
 * in one transaction, and file modes whatever the umask. The conformance suite runs sealed too.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from '@jest/globals';
import {
  addSecretsKey,
  createSecretsKeyring,
  sealerFor,
  type SecretsKeyring,
} from '../../src/index.js';
import { createSqliteStorage, type SqliteStorage } from '../../src/storage/sqlite/index.js';
import { runStorageConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-sqlite-secrets-'));
let n = 0;
const freshPath = (): string => join(dir, `db-${++n}.db`);
const keyring = (fill: number): SecretsKeyring =>
  createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(fill) }]);
const KEY = keyring(1);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

runStorageConformance('sqlite (sealed secrets)', ({ clock }) =>
  createSqliteStorage({ path: freshPath(), clock, secrets: KEY }),
);

async function enroll(store: SqliteStorage, id: string, unlockToken?: Uint8Array): Promise<void> {
  await store.storeTokenUpdate({
    id,
    type: 'device',
    deviceId: id,
    push: { token: 'ab', pushMagic: 'm', topic: 't' },
    ...(unlockToken === undefined ? {} : { unlockToken }),
  });
}

function rawRow(path: string, sql: string, ...id: string[]): Buffer {
  const db = new Database(path, { readonly: true });
  try {
    return Buffer.from((db.prepare(sql).get(...id) as { v: Uint8Array }).v);
  } finally {
    db.close();
  }
}

/** Queues a command carrying `body` to `ids` and has the first of them answer with `result`. */
async function command(
  store: SqliteStorage,
  uuid: string,
  ids: string[],
  body: Buffer,
  result: Buffer,
) {
  await store.enqueue({ uuid, requestType: 'ClearPasscode', body }, ids);
  await store.nextCommand(ids[0] ?? '', { skipNotNow: false, now: new Date() });
  await store.storeResult(ids[0] ?? '', { uuid, status: 'Acknowledged', result });
}

const UNLOCK = 'SELECT unlock_token AS v FROM enrollments WHERE id = ?';
const BODY = 'SELECT body AS v FROM commands WHERE uuid = ?';
const RESULT =
  'SELECT result AS v FROM command_targets WHERE command_uuid = ? AND enrollment_id = ?';
const BOOTSTRAP = 'SELECT sealed AS v FROM bootstrap_tokens WHERE enrollment_id = ?';

/** Every byte SQLite keeps for `path`: the database, its WAL and shared memory. */
function fileBytes(path: string): Buffer {
  return Buffer.concat(
    ['', '-wal', '-shm'].map((s) => {
      try {
        return readFileSync(path + s);
      } catch {
        return Buffer.alloc(0);
      }
    }),
  );
}

describe('sqlite sealed secrets', () => {
  test('ok/an UnlockToken is stored sealed and read back in clear', async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path, secrets: KEY });
    const token = Buffer.from('UNLOCK-TOKEN-PLAINTEXT-0001');
    await enroll(store, 'A', token);
    expect(Buffer.from((await store.findUnlockToken('A')) ?? [])).toEqual(token);
    await store.close();
    const raw = rawRow(path, UNLOCK, 'A');
    expect(raw.includes(token)).toBe(false);
    expect(KEY.keyIdOf(raw)).toBe(1);
    expect(fileBytes(path).includes(token)).toBe(false);
  });

  test('ok/a command body (a ClearPasscode carries the UnlockToken) and its result are stored sealed and read back in clear', async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path, secrets: KEY });
    const body = Buffer.from('<plist>UnlockToken PLAINTEXT-IN-A-COMMAND</plist>');
    const result = Buffer.from('<plist>RecoveryKey PLAINTEXT-IN-A-RESULT</plist>');
    await command(store, 'cmd-1', ['A', 'B'], body, result);
    const record = await store.findCommand('cmd-1');
    expect(Buffer.from(record?.body ?? [])).toEqual(body);
    expect(Buffer.from(record?.targets[0]?.result ?? [])).toEqual(result);
    const listed = await store.listForEnrollment('A', { limit: 10 });
    expect(Buffer.from(listed.items[0]?.result ?? [])).toEqual(result);
    expect(
      Buffer.from(
        (await store.nextCommand('B', { skipNotNow: false, now: new Date() }))?.body ?? [],
      ),
    ).toEqual(body);
    await store.close();
    expect(rawRow(path, BODY, 'cmd-1').includes(body)).toBe(false);
    expect(rawRow(path, RESULT, 'cmd-1', 'A').includes(result)).toBe(false);
    const bytes = fileBytes(path);
    expect(bytes.includes(body)).toBe(false);
    expect(bytes.includes(result)).toBe(false);
  });

  test("fail/a value sealed for device A copied into device B's row does not open (ERR_SECRET_OPEN)", async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path, secrets: KEY });
    await enroll(store, 'A', Buffer.from('token of A'));
    await enroll(store, 'B', Buffer.from('token of B'));
    const bootstrap = sealerFor(KEY, 'bootstrap-token');
    await store.storeBootstrapToken('A', bootstrap.seal('A', Buffer.from('bootstrap of A')));
    const db = new Database(path);
    db.prepare('UPDATE enrollments SET unlock_token = ? WHERE id = ?').run(
      rawRow(path, UNLOCK, 'A'),
      'B',
    );
    db.close();
    await expect(store.findUnlockToken('B')).rejects.toMatchObject({
      name: 'SecretsError',
      code: 'ERR_SECRET_OPEN',
      status: 500,
    });
    await store.storeBootstrapToken('B', (await store.findBootstrapToken('A')) ?? undefined);
    const moved = (await store.findBootstrapToken('B')) ?? new Uint8Array();
    expect(() => bootstrap.open('B', moved)).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_OPEN' }),
    );
    // A command result moved to another target of the same command does not open either.
    await command(store, 'cmd-1', ['A', 'B'], Buffer.from('body'), Buffer.from('result of A'));
    await store.storeResult('B', {
      uuid: 'cmd-1',
      status: 'Acknowledged',
      result: Buffer.from('b'),
    });
    const moveResult = new Database(path);
    moveResult
      .prepare('UPDATE command_targets SET result = ? WHERE command_uuid = ? AND enrollment_id = ?')
      .run(rawRow(path, RESULT, 'cmd-1', 'A'), 'cmd-1', 'B');
    moveResult.close();
    await expect(store.findCommand('cmd-1')).rejects.toMatchObject({ code: 'ERR_SECRET_OPEN' });
    // A's own values and the store itself are unharmed.
    expect(Buffer.from((await store.findUnlockToken('A')) ?? []).toString()).toBe('token of A');
    await store.close();
  });

  test('ok/plain-text UnlockTokens, command bodies and results of an existing database are sealed in place on the first open with a key; their bytes leave the files', async () => {
    const path = freshPath();
    const plain = createSqliteStorage({ path });
    const tokens = ['A', 'B', 'C'].map((id) => Buffer.from(`PLAINTEXT-UNLOCK-TOKEN-OF-${id}`));
    for (const [i, id] of ['A', 'B', 'C'].entries()) await enroll(plain, id, tokens[i]);
    await enroll(plain, 'D');
    const body = Buffer.from('PLAINTEXT-COMMAND-BODY');
    const result = Buffer.from('PLAINTEXT-COMMAND-RESULT');
    await command(plain, 'cmd-1', ['A'], body, result);
    await plain.close();
    expect(fileBytes(path).includes(tokens[0] ?? '')).toBe(true);
    expect(fileBytes(path).includes(body)).toBe(true);

    const sealed = createSqliteStorage({ path, secrets: KEY });
    for (const [i, id] of ['A', 'B', 'C'].entries()) {
      expect(Buffer.from((await sealed.findUnlockToken(id)) ?? [])).toEqual(tokens[i]);
      expect(KEY.keyIdOf(rawRow(path, UNLOCK, id))).toBe(1);
    }
    expect(await sealed.findUnlockToken('D')).toBeUndefined();
    const record = await sealed.findCommand('cmd-1');
    expect(Buffer.from(record?.body ?? [])).toEqual(body);
    expect(Buffer.from(record?.targets[0]?.result ?? [])).toEqual(result);
    await sealed.close();
    const bytes = fileBytes(path);
    for (const secret of [...tokens, body, result]) expect(bytes.includes(secret)).toBe(false);

    // Sealed once: a second open does not seal the sealed values again.
    const again = createSqliteStorage({ path, secrets: KEY });
    expect(Buffer.from((await again.findUnlockToken('A')) ?? [])).toEqual(tokens[0]);
    await again.close();
  });

  test.each([
    ['fail/another key (ERR_SECRETS_KEY_MISMATCH)', () => keyring(2), 'ERR_SECRETS_KEY_MISMATCH'],
    [
      'fail/a key file that lost key 1 (ERR_SECRETS_KEY_MISMATCH)',
      () => createSecretsKeyring([{ id: 2, key: new Uint8Array(32).fill(1) }]),
      'ERR_SECRETS_KEY_MISMATCH',
    ],
    ['fail/no key at all (ERR_STORAGE)', () => undefined, 'ERR_STORAGE'],
  ])('%s for a sealed database is refused at open', async (_name, make, code) => {
    const path = freshPath();
    await createSqliteStorage({ path, secrets: KEY }).close();
    const secrets = make();
    expect(() => createSqliteStorage({ path, ...(secrets ? { secrets } : {}) })).toThrow(
      expect.objectContaining({ code }),
    );
  });

  test('ok/rotation re-seals every secret in one transaction; old values open before it finishes', async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path, secrets: KEY });
    await enroll(store, 'A', Buffer.from('unlock A'));
    await enroll(store, 'B', Buffer.from('unlock B'));
    await store.storeBootstrapToken(
      'A',
      sealerFor(KEY, 'bootstrap-token').seal('A', Buffer.from('bootstrap A')),
    );
    await command(store, 'cmd-1', ['A', 'B'], Buffer.from('body'), Buffer.from('result'));
    const before = rawRow(path, UNLOCK, 'A');

    const next = addSecretsKey(KEY);
    // The new key is in the file but nothing is re-sealed yet: the old key still opens.
    const rotating = createSqliteStorage({ path, secrets: next });
    expect(Buffer.from((await rotating.findUnlockToken('A')) ?? []).toString()).toBe('unlock A');
    expect(Buffer.from((await store.findUnlockToken('A')) ?? []).toString()).toBe('unlock A');
    await store.close();

    expect(await rotating.resealSecrets()).toEqual({
      unlockTokens: 2,
      bootstrapTokens: 1,
      commands: 1,
      commandResults: 1,
      webhookEvents: 0,
      libraryProfiles: 0,
      enrollmentLinks: 0,
      removalPasswords: 0,
    });
    expect(await rotating.resealSecrets()).toEqual({
      unlockTokens: 0,
      bootstrapTokens: 0,
      commands: 0,
      commandResults: 0,
      webhookEvents: 0,
      libraryProfiles: 0,
      enrollmentLinks: 0,
      removalPasswords: 0,
    });
    expect(next.keyIdOf(rawRow(path, BODY, 'cmd-1'))).toBe(2);
    expect(next.keyIdOf(rawRow(path, RESULT, 'cmd-1', 'A'))).toBe(2);
    expect(Buffer.from((await rotating.findCommand('cmd-1'))?.body ?? []).toString()).toBe('body');
    const after = rawRow(path, UNLOCK, 'A');
    expect(next.keyIdOf(after)).toBe(2);
    expect(after.equals(before)).toBe(false);
    expect(next.keyIdOf(rawRow(path, BOOTSTRAP, 'A'))).toBe(2);
    expect(Buffer.from((await rotating.findUnlockToken('B')) ?? []).toString()).toBe('unlock B');
    const escrowed = (await rotating.findBootstrapToken('A')) ?? new Uint8Array();
    expect(Buffer.from(sealerFor(next, 'bootstrap-token').open('A', escrowed)).toString()).toBe(
      'bootstrap A',
    );
    await rotating.close();
    // The key file must keep key 1; a keyring without it is refused.
    expect(() => createSqliteStorage({ path, secrets: KEY })).toThrow(
      expect.objectContaining({ code: 'ERR_SECRETS_KEY_MISMATCH' }),
    );
  });

  test('fail/a value that does not open stops the rotation and changes nothing', async () => {
    const path = freshPath();
    const store = createSqliteStorage({ path, secrets: KEY });
    await enroll(store, 'A', Buffer.from('unlock A'));
    await enroll(store, 'B', Buffer.from('unlock B'));
    const db = new Database(path);
    db.prepare('UPDATE enrollments SET unlock_token = ? WHERE id = ?').run(
      rawRow(path, UNLOCK, 'A'),
      'B',
    );
    db.close();
    await store.close();
    const before = rawRow(path, UNLOCK, 'A');
    const rotating = createSqliteStorage({ path, secrets: addSecretsKey(KEY) });
    await expect(rotating.resealSecrets()).rejects.toMatchObject({ code: 'ERR_SECRET_OPEN' });
    expect(rawRow(path, UNLOCK, 'A').equals(before)).toBe(true);
    await rotating.close();
  });

  test('fail/rotation without a keyring is a TypeError', async () => {
    const store = createSqliteStorage({ path: freshPath() });
    await expect(store.resealSecrets()).rejects.toBeInstanceOf(TypeError);
    await store.close();
  });
});

describe('sqlite file modes', () => {
  const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

  test('ok/the database, -wal and -shm are 0600 under a umask of 000, also after writes', async () => {
    const path = freshPath();
    const old = process.umask(0);
    try {
      const store = createSqliteStorage({ path, secrets: KEY, lastSeenFlushMs: 0 });
      await enroll(store, 'A', Buffer.from('x'));
      await store.enqueue({ uuid: 'c1', requestType: 'X', body: new Uint8Array([1]) }, ['A']);
      for (const f of [path, `${path}-wal`, `${path}-shm`])
        expect([f, mode(f)]).toEqual([f, '600']);
      await store.close();
    } finally {
      process.umask(old);
    }
    expect(mode(path)).toBe('600');
  });

  test('ok/an existing 0644 database and its companions are set to 0600 at open', async () => {
    const path = freshPath();
    await createSqliteStorage({ path, fileMode: null }).close();
    writeFileSync(`${path}-shm`, Buffer.alloc(0));
    chmodSync(path, 0o644);
    chmodSync(`${path}-shm`, 0o666);
    const store = createSqliteStorage({ path });
    expect(mode(path)).toBe('600');
    expect(mode(`${path}-shm`)).toBe('600');
    await store.close();
  });
});
