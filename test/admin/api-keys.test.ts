/**
 * API keys as a library part: generated with the prefix and shown once, stored by hash, and
 * checked in constant time against every active key. Refusals are 403 with a code (never 401).
 */
import { describe, expect, test } from '@jest/globals';
import {
  API_KEY_PREFIX,
  authenticate,
  bearerKey,
  createApiKey,
  ensureApiKey,
  generateApiKey,
  hashApiKey,
  OrchardError,
} from '../../src/index.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';

const store = () => openSqliteAdminStore({ path: ':memory:' });

describe('keys', () => {
  test('ok/a generated key has the prefix and 32 random bytes; only its hash is stored', async () => {
    const key = generateApiKey(() => Buffer.alloc(32, 7));
    expect(key).toBe(`${API_KEY_PREFIX}${Buffer.alloc(32, 7).toString('base64url')}`);
    const admin = store();
    const { record, key: created } = await createApiKey(admin, 'ci', 'read');
    expect(await admin.findApiKeyByHash(hashApiKey(created))).toEqual(record);
    expect(JSON.stringify(await admin.listActiveApiKeys())).not.toContain(created);
  });

  test('ok/ensureApiKey stores an operator key once, with write scope', async () => {
    const admin = store();
    const first = await ensureApiKey(admin, 'orch_given', 'operator');
    expect(first.scope).toBe('write');
    expect(await ensureApiKey(admin, 'orch_given', 'again')).toEqual(first);
    expect(await admin.countActiveApiKeys()).toBe(1);
  });

  test.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc  ', 'abc'],
    ['Bearer', undefined],
    ['Bearer ', undefined],
    ['Basic abc', undefined],
    [undefined, undefined],
  ])('ok/bearerKey(%p) is %p', (header, key) => {
    expect(bearerKey(header)).toBe(key);
  });
});

// Top-level await: the keys must exist when `test.each` below builds its table.
const admin = store();
const write = await createApiKey(admin, 'w', 'write');
const read = await createApiKey(admin, 'r', 'read');
const revoked = await createApiKey(admin, 'gone', 'write');
await admin.revokeApiKey(revoked.record.id);

describe('authenticate', () => {
  test('ok/a write key may write, a read key may read', async () => {
    expect((await authenticate(admin, `Bearer ${write.key}`, 'write')).id).toBe(write.record.id);
    expect((await authenticate(admin, `Bearer ${read.key}`, 'read')).id).toBe(read.record.id);
  });

  test.each([
    ['no header', undefined, 'read', 'ERR_API_KEY_MISSING'],
    ['an empty bearer', 'Bearer ', 'read', 'ERR_API_KEY_MISSING'],
    ['an unknown key', 'Bearer orch_nope', 'read', 'ERR_API_KEY_INVALID'],
    ['a revoked key', `Bearer ${revoked.key}`, 'read', 'ERR_API_KEY_INVALID'],
    ['a read key writing', `Bearer ${read.key}`, 'write', 'ERR_API_SCOPE'],
  ] as const)('fail/%s is 403 %s', async (_name, header, need, code) => {
    const error: unknown = await authenticate(admin, header, need).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OrchardError);
    expect(error).toMatchObject({ code, status: 403 });
  });
});
