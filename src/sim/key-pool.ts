/**
 * Pre-generated RSA-2048 device keys. Generating one takes tens of milliseconds of CPU, so a
 * fleet draws from a pool generated asynchronously once, optionally cached in a PEM file that
 * tests and repeated runs reuse.
 */
import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { SimKeyPool } from './types.js';

/** A key pool that can be saved to a PEM file and read back with {@link loadKeyPool}. */
export interface SavableKeyPool extends SimKeyPool {
  /** Writes every key of the pool (PKCS#8 PEM, concatenated) to `path`, mode 0600. */
  save(path: string): Promise<void>;
}

/** Generates one RSA-2048 private key without blocking the event loop. */
export function generateRsaKey(): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (error, _publicKey, privateKey) => {
      if (error) reject(error);
      else resolve(privateKey);
    });
  });
}

/**
 * A pool over `keys`; `take()` hands them out in order and starts over when all are used, so a
 * small pool serves a large fleet (devices then share keys, which the server does not forbid).
 * Throws `TypeError` for an empty list.
 */
export function keyPoolOf(keys: readonly KeyObject[]): SavableKeyPool {
  if (keys.length === 0) throw new TypeError('keyPoolOf: the pool needs at least one key');
  let next = 0;
  return {
    size: keys.length,
    take() {
      const key = keys[next % keys.length] as KeyObject;
      next += 1;
      return key;
    },
    async save(path) {
      const pem = keys.map((k) => k.export({ format: 'pem', type: 'pkcs8' }).toString());
      await writeFile(path, pem.join(''), { mode: 0o600 });
    },
  };
}

/**
 * Generates `size` RSA-2048 keys asynchronously (off the main thread) and returns a pool over
 * them. Throws `TypeError` when `size` is not a positive integer.
 */
export async function createKeyPool(size: number): Promise<SavableKeyPool> {
  if (!Number.isInteger(size) || size < 1) {
    throw new TypeError('createKeyPool: size must be a positive integer');
  }
  const keys = await Promise.all(Array.from({ length: size }, () => generateRsaKey()));
  return keyPoolOf(keys);
}

/**
 * Reads a pool saved by {@link SavableKeyPool.save}; with `generate`, a missing or short file is
 * topped up to `generate` keys and written back. Throws the file system's error otherwise.
 */
export async function loadKeyPool(path: string, generate?: number): Promise<SavableKeyPool> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (generate === undefined || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const blocks = text.match(/-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----/g) ?? [];
  const keys = blocks.map((pem) => createPrivateKey(pem));
  if (generate === undefined || keys.length >= generate) return keyPoolOf(keys);
  const extra = await Promise.all(
    Array.from({ length: generate - keys.length }, () => generateRsaKey()),
  );
  const pool = keyPoolOf([...keys, ...extra]);
  await pool.save(path);
  return pool;
}
