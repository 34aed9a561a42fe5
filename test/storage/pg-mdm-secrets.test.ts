/**
 * The PostgreSQL adapter with a secrets keyring (as test/storage/sqlite-secrets.test.ts for
 * SQLite): values sealed at rest and opened by another pool, plain values of a database used
 * without a key sealed in place once, a wrong or missing key refused at open, values bound to
 * their row, rotation in one transaction. The conformance suite runs sealed too.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import {
  addSecretsKey,
  createSecretsKeyring,
  sealerFor,
  type SecretsKeyring,
} from '../../src/index.js';
import { createPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runStorageConformance } from './conformance.js';

let db: TestDatabase;
const keyring = (fill: number): SecretsKeyring =>
  createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(fill) }]);
const KEY = keyring(1);

beforeAll(async () => {
  db = await createTestDatabase('mdm_secrets');
});

afterAll(async () => {
  await db.drop();
});

runStorageConformance('postgres (sealed secrets)', async ({ clock }) => {
  await db.reset();
  return createPostgresStorage({ url: db.url, clock, secrets: KEY, pool: { max: 4 } });
});

const open = (secrets?: SecretsKeyring): Promise<PostgresStorage> =>
  createPostgresStorage({
    url: db.url,
    pool: { max: 2 },
    lastSeenFlushMs: 0,
    ...(secrets === undefined ? {} : { secrets }),
  });

async function enroll(store: PostgresStorage, id: string, unlockToken?: Uint8Array) {
  await store.storeTokenUpdate({
    id,
    type: 'device',
    deviceId: id,
    push: { token: 'ab', pushMagic: 'm', topic: 't' },
    ...(unlockToken === undefined ? {} : { unlockToken }),
  });
}

/** Queues a command carrying `body` to `ids` and has the first of them answer with `result`. */
async function command(
  store: PostgresStorage,
  uuid: string,
  ids: string[],
  body: Buffer,
  result: Buffer,
) {
  await store.enqueue({ uuid, requestType: 'ClearPasscode', body }, ids);
  await store.nextCommand(ids[0] ?? '', { skipNotNow: false, now: new Date() });
  await store.storeResult(ids[0] ?? '', { uuid, status: 'Acknowledged', result });
}

const UNLOCK = 'SELECT unlock_token AS v FROM enrollments WHERE id = $1';
const BODY = 'SELECT body AS v FROM commands WHERE uuid = $1';
const RESULT =
  'SELECT result AS v FROM command_targets WHERE command_uuid = $1 AND enrollment_id = $2';
const BOOTSTRAP = 'SELECT sealed AS v FROM bootstrap_tokens WHERE enrollment_id = $1';

async function raw(sql: string, ...values: string[]): Promise<Buffer> {
  const rows = await db.query<{ v: Buffer }>(sql, values);
  return rows[0]?.v ?? Buffer.alloc(0);
}

const text = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? []).toString();

describe('postgres sealed secrets', () => {
  beforeEach(async () => {
    await db.reset();
  });

  test('ok/an UnlockToken is stored sealed and read back in clear, by this pool and another', async () => {
    const store = await open(KEY);
    const token = Buffer.from('UNLOCK-TOKEN-PLAINTEXT-0001');
    await enroll(store, 'A', token);
    expect(Buffer.from((await store.findUnlockToken('A')) ?? [])).toEqual(token);
    const stored = await raw(UNLOCK, 'A');
    expect(stored.includes(token)).toBe(false);
    expect(KEY.keyIdOf(stored)).toBe(1);
    const other = await open(keyring(1));
    expect(Buffer.from((await other.findUnlockToken('A')) ?? [])).toEqual(token);
    await other.close();
    await store.close();
  });

  test("fail/a value sealed for device A copied into device B's row does not open (ERR_SECRET_OPEN)", async () => {
    const store = await open(KEY);
    await enroll(store, 'A', Buffer.from('token of A'));
    await enroll(store, 'B', Buffer.from('token of B'));
    const bootstrap = sealerFor(KEY, 'bootstrap-token');
    await store.storeBootstrapToken('A', bootstrap.seal('A', Buffer.from('bootstrap of A')));
    await db.query('UPDATE enrollments SET unlock_token = $1 WHERE id = $2', [
      await raw(UNLOCK, 'A'),
      'B',
    ]);
    await expect(store.findUnlockToken('B')).rejects.toMatchObject({
      name: 'SecretsError',
      code: 'ERR_SECRET_OPEN',
      status: 500,
    });
    await store.storeBootstrapToken('B', await store.findBootstrapToken('A'));
    const moved = (await store.findBootstrapToken('B')) ?? new Uint8Array();
    expect(() => bootstrap.open('B', moved)).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_OPEN' }),
    );
    expect(text(await store.findUnlockToken('A'))).toBe('token of A');
    await store.close();
  });

  test('ok/plain UnlockTokens of a database used without a key are sealed in place on the first open with one, once', async () => {
    const plain = await open();
    const tokens = ['A', 'B', 'C'].map((id) => Buffer.from(`PLAINTEXT-UNLOCK-TOKEN-OF-${id}`));
    for (const [i, id] of ['A', 'B', 'C'].entries()) await enroll(plain, id, tokens[i]);
    await enroll(plain, 'D');
    await plain.close();
    expect(await raw(UNLOCK, 'A')).toEqual(tokens[0]);

    const sealed = await open(KEY);
    for (const [i, id] of ['A', 'B', 'C'].entries()) {
      expect(Buffer.from((await sealed.findUnlockToken(id)) ?? [])).toEqual(tokens[i]);
      expect(KEY.keyIdOf(await raw(UNLOCK, id))).toBe(1);
    }
    expect(await sealed.findUnlockToken('D')).toBeUndefined();
    await sealed.close();
    const marked = await db.query<{ purpose: string }>('SELECT purpose FROM secrets_sealed');
    expect(marked.map((r) => r.purpose)).toContain('unlock-token');

    // Sealed once: a second open does not seal the sealed values again.
    const again = await open(KEY);
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
    await (await open(KEY)).close();
    await expect(open(make())).rejects.toMatchObject({ code });
  });

  test('ok/daemons opening a new database with one key at the same time all open; the key is recorded once', async () => {
    const stores = await Promise.all([open(KEY), open(keyring(1)), open(KEY)]);
    const keys = await db.query<{ key_id: number }>('SELECT key_id FROM secrets_keys');
    expect(keys).toEqual([{ key_id: 1 }]);
    await Promise.all(stores.map((s) => s.close()));
  });

  test('ok/rotation re-seals every secret in one transaction; old values open before it finishes', async () => {
    const store = await open(KEY);
    await enroll(store, 'A', Buffer.from('unlock A'));
    await enroll(store, 'B', Buffer.from('unlock B'));
    const escrow = sealerFor(KEY, 'bootstrap-token').seal('A', Buffer.from('bootstrap A'));
    await store.storeBootstrapToken('A', escrow);
    await command(store, 'cmd-1', ['A', 'B'], Buffer.from('body'), Buffer.from('result'));
    const before = await raw(UNLOCK, 'A');

    const next = addSecretsKey(KEY);
    const rotating = await open(next);
    expect(text(await rotating.findUnlockToken('A'))).toBe('unlock A');
    expect(text(await store.findUnlockToken('A'))).toBe('unlock A');
    await store.close();

    const none = {
      unlockTokens: 0,
      bootstrapTokens: 0,
      commands: 0,
      commandResults: 0,
      webhookEvents: 0,
      libraryProfiles: 0,
      enrollmentLinks: 0,
      removalPasswords: 0,
    };
    expect(await rotating.resealSecrets()).toEqual({
      ...none,
      unlockTokens: 2,
      bootstrapTokens: 1,
      commands: 1,
      commandResults: 1,
    });
    expect(await rotating.resealSecrets()).toEqual(none);
    expect(next.keyIdOf(await raw(BODY, 'cmd-1'))).toBe(2);
    expect(next.keyIdOf(await raw(RESULT, 'cmd-1', 'A'))).toBe(2);
    expect(next.keyIdOf(await raw(BOOTSTRAP, 'A'))).toBe(2);
    const after = await raw(UNLOCK, 'A');
    expect(next.keyIdOf(after)).toBe(2);
    expect(after.equals(before)).toBe(false);
    expect(text((await rotating.findCommand('cmd-1'))?.body)).toBe('body');
    expect(text(await rotating.findUnlockToken('B'))).toBe('unlock B');
    const escrowed = (await rotating.findBootstrapToken('A')) ?? new Uint8Array();
    expect(text(sealerFor(next, 'bootstrap-token').open('A', escrowed))).toBe('bootstrap A');
    await rotating.close();
    // Every daemon needs the new key file: one without key 2 is refused.
    await expect(open(KEY)).rejects.toMatchObject({ code: 'ERR_SECRETS_KEY_MISMATCH' });
  });

  test('fail/a value that does not open stops the rotation and changes nothing', async () => {
    const store = await open(KEY);
    await enroll(store, 'A', Buffer.from('unlock A'));
    await enroll(store, 'B', Buffer.from('unlock B'));
    // Unlock tokens are re-sealed first; the bootstrap token moved to B's row fails after them.
    const escrow = sealerFor(KEY, 'bootstrap-token').seal('A', Buffer.from('bootstrap A'));
    await store.storeBootstrapToken('B', escrow);
    await store.close();
    const before = await db.query('SELECT id, unlock_token FROM enrollments ORDER BY id');
    const rotating = await open(addSecretsKey(KEY));
    await expect(rotating.resealSecrets()).rejects.toMatchObject({ code: 'ERR_SECRET_OPEN' });
    expect(await db.query('SELECT id, unlock_token FROM enrollments ORDER BY id')).toEqual(before);
    expect(KEY.keyIdOf(await raw(UNLOCK, 'A'))).toBe(1);
    expect(text(await rotating.findUnlockToken('A'))).toBe('unlock A');
    await rotating.close();
  });

  test('fail/rotation without a keyring is a TypeError', async () => {
    const store = await open();
    await expect(store.resealSecrets()).rejects.toBeInstanceOf(TypeError);
    await store.close();
  });
});
