/**
 * Device secrets sealed at rest in PostgreSQL with a secrets keyring: the keys' fingerprints are
 * recorded so a wrong or missing key is refused at open, values are sealed and opened through
 * `toStore`/`fromStore`, and `resealSecrets` re-seals every sealed column under the current key.
 * Owner: area A.
 */
import type pg from 'pg';
import type { SecretPurpose, SecretsKeyring } from '../../crypto/secrets-key.js';
import type { PgContext } from './db.js';

import type { ResealResult } from '../sealed-owners.js';

export type { ResealResult };

/**
 * Checks `keyring` against the database at open (records its keys on first use); rejects with
 * SecretsError `ERR_SECRETS_KEY_MISMATCH` when values were sealed with a key it lacks, or when
 * the database holds sealed values and no keyring is given.
 */
export async function prepareSealedSecrets(
  pool: pg.Pool,
  keyring: SecretsKeyring | undefined,
  now: Date,
): Promise<void> {
  void pool;
  void keyring;
  void now;
  return Promise.resolve();
}

/** The value to store for a secret of `purpose` bound to `owner`: sealed when the store has a keyring. */
export function toStore(
  ctx: PgContext,
  purpose: SecretPurpose,
  owner: string,
  value: Uint8Array,
): Uint8Array {
  return ctx.secrets === undefined ? value : ctx.secrets.seal(purpose, owner, value);
}

/** The plain value of a stored secret (opened when the store has a keyring). */
export function fromStore(
  ctx: PgContext,
  purpose: SecretPurpose,
  owner: string,
  stored: Uint8Array,
): Uint8Array {
  return ctx.secrets === undefined
    ? new Uint8Array(stored)
    : ctx.secrets.open(purpose, owner, stored);
}

/**
 * Re-seals every sealed column's values not under the current key, in one transaction; rejects
 * with TypeError without a keyring, SecretsError (changing nothing) when a value does not open.
 */
export async function resealSecrets(ctx: PgContext): Promise<ResealResult> {
  void ctx;
  return Promise.reject(new Error('not implemented'));
}
