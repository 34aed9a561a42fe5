/**
 * The secrets keyring: AES-256-GCM keys that seal device secrets at rest (UnlockTokens, escrowed
 * bootstrap tokens, command bodies and results). The current key seals; every key in the ring
 * still opens, so keys rotate without a flag day. A sealed value names its key and is bound to
 * its purpose and owner (the enrollment id; associated data), so a value copied into another
 * device's row does not open. No I/O here: the
 * key file's text is encoded and decoded, reading and writing it is the caller's business.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { SecretsError } from '../errors.js';

/** One key of a {@link SecretsKeyring}: an id from 1 to 255 and 32 bytes of key material. */
export interface SecretsKey {
  id: number;
  key: Uint8Array;
  /** When the key was generated, kept in the key file for operators. */
  createdAt?: Date;
}

/**
 * What a sealed value is: a device's UnlockToken or escrowed bootstrap token, a command body
 * (which may carry an UnlockToken, a PIN or a password), a device's command result (which may
 * carry a recovery key or bypass code) or a webhook event awaiting delivery (which may carry a
 * device's raw check-in), or a library profile's content (which may carry Wi-Fi or VPN passwords
 * and certificate keys), or the kept secret of a personal or generic enrollment link, or the
 * removal password of a policy assignment. Part of the associated data: a value cannot change kind.
 */
export type SecretPurpose =
  | 'unlock-token'
  | 'bootstrap-token'
  | 'command'
  | 'command-result'
  | 'webhook-event'
  | 'library-profile'
  | 'enrollment-link'
  | 'removal-password'
  | 'shared-file';

/** Seals and opens the secrets of one purpose, bound to an enrollment id (a `TokenSealer`). */
export interface SecretSealer {
  seal(enrollmentId: string, plaintext: Uint8Array): Uint8Array;
  /** Throws {@link SecretsError} when the value was altered, moved or sealed with an unknown key. */
  open(enrollmentId: string, sealed: Uint8Array): Uint8Array;
}

/** Keys that seal with the current one and open with any of them. */
export interface SecretsKeyring {
  /** Id of the key that seals. */
  readonly currentKeyId: number;
  /** Every key id, ascending. */
  readonly keyIds: readonly number[];
  /**
   * Seals `plaintext` with the current key: version, key id, 96-bit random nonce, ciphertext,
   * tag. `owner` (the enrollment id, or what else the value belongs to) is authenticated with it.
   */
  seal(purpose: SecretPurpose, owner: string, plaintext: Uint8Array): Uint8Array;
  /**
   * Opens a sealed value. Throws {@link SecretsError} `ERR_SECRET_UNKNOWN_KEY` when its key is not
   * in the ring, `ERR_SECRET_OPEN` when it is malformed, altered, or sealed for another owner
   * or purpose.
   */
  open(purpose: SecretPurpose, owner: string, sealed: Uint8Array): Uint8Array;
  /** The key id a sealed value names, or `undefined` when it is not a sealed value. */
  keyIdOf(sealed: Uint8Array): number | undefined;
  /**
   * A key check value (HMAC of a fixed label under the key, 32 hex digits) that identifies a key
   * without revealing it, or `undefined` for an id not in the ring.
   */
  fingerprint(keyId: number): string | undefined;
  /** Copies of the keys, for writing the key file. */
  exportKeys(): SecretsKey[];
}

/** Options of {@link createSecretsKeyring}. */
export interface SecretsKeyringOptions {
  /** Id of the sealing key; default the highest id. */
  current?: number;
  /** Source of nonces; injectable for deterministic tests. */
  random?: (n: number) => Uint8Array;
}

const VERSION = 1;
const HEADER = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const CHECK_LABEL = 'orchard secrets key check v1';
const FILE_FORMAT = 1;

function checkKey(k: SecretsKey): void {
  if (!Number.isInteger(k.id) || k.id < 1 || k.id > 255)
    throw new TypeError(`secrets key id must be an integer from 1 to 255, got ${String(k.id)}`);
  if (!(k.key instanceof Uint8Array) || k.key.length !== KEY_BYTES)
    throw new TypeError(`secrets key ${k.id} must be ${KEY_BYTES} bytes`);
}

function aad(header: Uint8Array, purpose: SecretPurpose, owner: string): Buffer {
  return Buffer.concat([header, Buffer.from(`orchard:${purpose}\0${owner}`, 'utf8')]);
}

function openWith(key: Uint8Array, purpose: SecretPurpose, owner: string, buf: Buffer): Uint8Array {
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(HEADER, HEADER + IV_BYTES));
  decipher.setAAD(aad(buf.subarray(0, HEADER), purpose, owner));
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  try {
    const body = buf.subarray(HEADER + IV_BYTES, buf.length - TAG_BYTES);
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch (cause) {
    throw new SecretsError(
      'ERR_SECRET_OPEN',
      `sealed ${purpose} does not open for its row (altered or moved from another row)`,
      { cause, detail: { owner } },
    );
  }
}

/**
 * Creates a keyring from its keys. Throws TypeError on a key id outside 1–255, key material that
 * is not 32 bytes, a duplicate id, an empty list, or a `current` id that is not in the list.
 */
export function createSecretsKeyring(
  keys: readonly SecretsKey[],
  options: SecretsKeyringOptions = {},
): SecretsKeyring {
  const ring = new Map<number, SecretsKey>();
  for (const k of keys) {
    checkKey(k);
    if (ring.has(k.id)) throw new TypeError(`duplicate secrets key id ${k.id}`);
    ring.set(k.id, { ...k, key: Uint8Array.from(k.key) });
  }
  const keyIds = [...ring.keys()].sort((a, b) => a - b);
  const current = options.current ?? keyIds.at(-1);
  const sealing = current === undefined ? undefined : ring.get(current);
  if (current === undefined || sealing === undefined)
    throw new TypeError('the current secrets key must be one of the keys');
  const random = options.random ?? randomBytes;
  const keyIdOf = (sealed: Uint8Array): number | undefined =>
    sealed.length >= HEADER + IV_BYTES + TAG_BYTES && sealed[0] === VERSION ? sealed[1] : undefined;
  return {
    currentKeyId: current,
    keyIds,
    seal(purpose, owner, plaintext) {
      const header = Uint8Array.of(VERSION, current);
      const iv = random(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealing.key, iv);
      cipher.setAAD(aad(header, purpose, owner));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return new Uint8Array(Buffer.concat([header, iv, body, cipher.getAuthTag()]));
    },
    open(purpose, owner, sealed) {
      const id = keyIdOf(sealed);
      if (id === undefined)
        throw new SecretsError('ERR_SECRET_OPEN', `stored ${purpose} is not a sealed value`, {
          detail: { owner },
        });
      const k = ring.get(id);
      if (k === undefined)
        throw new SecretsError(
          'ERR_SECRET_UNKNOWN_KEY',
          `stored ${purpose} was sealed with secrets key ${id}, which the key file does not hold`,
          { detail: { owner, keyId: id } },
        );
      return openWith(k.key, purpose, owner, Buffer.from(sealed));
    },
    keyIdOf,
    fingerprint(keyId) {
      const k = ring.get(keyId);
      if (k === undefined) return undefined;
      return createHmac('sha256', k.key).update(CHECK_LABEL).digest('hex').slice(0, 32);
    },
    exportKeys: () => keyIds.map((id) => ring.get(id) as SecretsKey).map(copyKey),
  };
}

function copyKey(k: SecretsKey): SecretsKey {
  const out: SecretsKey = { id: k.id, key: Uint8Array.from(k.key) };
  if (k.createdAt !== undefined) out.createdAt = new Date(k.createdAt.getTime());
  return out;
}

/** The {@link SecretSealer} of one purpose over a keyring, e.g. the MDM core's `bootstrapSealer`. */
export function sealerFor(keyring: SecretsKeyring, purpose: SecretPurpose): SecretSealer {
  return {
    seal: (enrollmentId, plaintext) => keyring.seal(purpose, enrollmentId, plaintext),
    open: (enrollmentId, sealed) => keyring.open(purpose, enrollmentId, sealed),
  };
}

/** Generates a fresh 32-byte key with this id; `random` and `clock` are injectable for tests. */
export function generateSecretsKey(
  id: number,
  options: { random?: (n: number) => Uint8Array; clock?: () => Date } = {},
): SecretsKey {
  const key: SecretsKey = {
    id,
    key: Uint8Array.from((options.random ?? randomBytes)(KEY_BYTES)),
    createdAt: (options.clock ?? (() => new Date()))(),
  };
  checkKey(key);
  return key;
}

/**
 * A keyring with one more key (the next id), which becomes the current one; the old keys stay to
 * open what they sealed. Throws {@link SecretsError} `ERR_SECRETS_KEY` when id 255 is taken.
 */
export function addSecretsKey(
  keyring: SecretsKeyring,
  options: { random?: (n: number) => Uint8Array; clock?: () => Date } = {},
): SecretsKeyring {
  const next = (keyring.keyIds.at(-1) ?? 0) + 1;
  if (next > 255)
    throw new SecretsError('ERR_SECRETS_KEY', 'the key file already holds key 255, the last id');
  const keys = [...keyring.exportKeys(), generateSecretsKey(next, options)];
  return createSecretsKeyring(keys, options.random ? { random: options.random } : {});
}

/** The key file's text: JSON naming the current key and every key (base64), one per line. */
export function encodeSecretsKeyFile(keyring: SecretsKeyring): string {
  const keys = keyring.exportKeys().map((k) =>
    JSON.stringify({
      id: k.id,
      ...(k.createdAt === undefined ? {} : { createdAt: k.createdAt.toISOString() }),
      key: Buffer.from(k.key).toString('base64'),
    }),
  );
  return `{\n  "orchardSecretsKeys": ${FILE_FORMAT},\n  "current": ${keyring.currentKeyId},\n  "keys": [\n    ${keys.join(',\n    ')}\n  ]\n}\n`;
}

function bad(message: string): SecretsError {
  return new SecretsError('ERR_SECRETS_KEY', `not an Orchard secrets key file: ${message}`);
}

function decodeKey(value: unknown, index: number): SecretsKey {
  if (typeof value !== 'object' || value === null) throw bad(`keys[${index}] is not an object`);
  const { id, key, createdAt } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 255)
    throw bad(`keys[${index}].id must be an integer from 1 to 255`);
  const material = typeof key === 'string' ? Buffer.from(key, 'base64') : undefined;
  if (material?.length !== KEY_BYTES || material.toString('base64') !== key)
    throw bad(`key ${id} must be ${KEY_BYTES} bytes in base64`);
  const out: SecretsKey = { id, key: new Uint8Array(material) };
  if (createdAt !== undefined) {
    const at = typeof createdAt === 'string' ? new Date(createdAt) : new Date(NaN);
    if (Number.isNaN(at.getTime())) throw bad(`key ${id} has an invalid createdAt`);
    out.createdAt = at;
  }
  return out;
}

/**
 * Reads a key file's text into a keyring. Throws {@link SecretsError} `ERR_SECRETS_KEY` (naming
 * what is wrong, never the key material) when the text is not a valid key file.
 */
export function decodeSecretsKeyFile(
  text: string,
  options: { random?: (n: number) => Uint8Array } = {},
): SecretsKeyring {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw bad('not a JSON object');
  const file = parsed as Record<string, unknown>;
  if (file.orchardSecretsKeys !== FILE_FORMAT)
    throw bad(`"orchardSecretsKeys" must be ${FILE_FORMAT}`);
  if (!Array.isArray(file.keys) || file.keys.length === 0) throw bad('"keys" must list a key');
  const keys = file.keys.map((k, i) => decodeKey(k, i));
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw bad('duplicate key id');
  const current = file.current;
  if (typeof current !== 'number' || !keys.some((k) => k.id === current))
    throw bad('"current" must be the id of one of the keys');
  return createSecretsKeyring(keys, {
    current,
    ...(options.random ? { random: options.random } : {}),
  });
}
