/**
 * Admin API keys: 256-bit random secrets shown once, stored as SHA-256, checked in constant
 * time. A missing, empty or unknown key never opens the API (403, never 401).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AdminError } from '../errors.js';
import type { ApiKeyRecord, ApiKeyScope, ApiKeyStore } from '../storage/ports.js';

/** Prefix of generated keys, so leaked keys are easy to recognise and scan for. */
export const API_KEY_PREFIX = 'orch_';

/** SHA-256 of a key (or any secret the admin domain stores), lower-case hex: what the store keeps. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new key: the prefix and 32 random bytes in base64url. `random` is injectable for tests. */
export function generateApiKey(random: (n: number) => Buffer = randomBytes): string {
  return API_KEY_PREFIX + random(32).toString('base64url');
}

/**
 * Creates and stores a key for the administrator `principalId` (default the owner); returns the
 * record and the key itself (show it once, never store it). The caller checks the administrator
 * may hold a key of `scope`.
 */
export async function createApiKey(
  store: Pick<ApiKeyStore, 'createApiKey'>,
  name: string,
  scope: ApiKeyScope,
  principalId?: string,
): Promise<{ record: ApiKeyRecord; key: string }> {
  const key = generateApiKey();
  const input = { name, scope, hash: hashApiKey(key) };
  const record = await store.createApiKey(
    principalId === undefined ? input : { ...input, principalId },
  );
  return { record, key };
}

/**
 * Stores an operator-given key (from `--api-key`) with write scope unless its hash is already
 * stored. Returns the record of that key.
 */
export async function ensureApiKey(
  store: Pick<ApiKeyStore, 'createApiKey' | 'findApiKeyByHash'>,
  key: string,
  name: string,
): Promise<ApiKeyRecord> {
  const hash = hashApiKey(key);
  return (await store.findApiKeyByHash(hash)) ?? store.createApiKey({ name, scope: 'write', hash });
}

/** Reads the bearer key of an `Authorization` header; `undefined` when absent or empty. */
export function bearerKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/**
 * Authenticates a request's `Authorization` header for `need` scope and returns the key's record.
 * Rejects with AdminError `ERR_API_KEY_MISSING`, `ERR_API_KEY_INVALID` or `ERR_API_SCOPE` (all
 * 403), or with the store's StorageError.
 */
export async function authenticate(
  store: Pick<ApiKeyStore, 'listActiveApiKeys'>,
  header: string | undefined,
  need: ApiKeyScope,
): Promise<ApiKeyRecord> {
  const key = bearerKey(header);
  if (key === undefined || key.length === 0)
    throw new AdminError('ERR_API_KEY_MISSING', 'an API key is required (Authorization: Bearer)');
  const given = Buffer.from(hashApiKey(key), 'hex');
  // Compare against every active key in constant time rather than looking the key up.
  let record: ApiKeyRecord | undefined;
  for (const candidate of await store.listActiveApiKeys()) {
    if (timingSafeEqual(given, Buffer.from(candidate.hash, 'hex'))) record = candidate.record;
  }
  if (record === undefined)
    throw new AdminError('ERR_API_KEY_INVALID', 'unknown or revoked API key');
  if (need === 'write' && record.scope !== 'write')
    throw new AdminError('ERR_API_SCOPE', 'this API key may only read');
  return record;
}
