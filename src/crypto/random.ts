/**
 * Random bytes from a per-process pool: one `randomFillSync` call refills 4 KiB, so the hot
 * paths that need several small values per request (serials, content keys, IVs, nonces) make
 * one OpenSSL call per hundred or so values instead of one each. Taken bytes are copied out and
 * wiped from the pool, so no value is handed out twice or kept after use.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * `size` cryptographically strong random bytes in a new Buffer (like `crypto.randomBytes`).
 * Sizes above 1 KiB bypass the pool. Throws `RangeError` for a negative or non-integer size.
 */
export function randomPoolBytes(size: number): Buffer {
  if (!Number.isInteger(size) || size < 0) throw new RangeError('randomPoolBytes(): bad size');
  const out = Buffer.allocUnsafe(size);
  if (size > 1024) return randomFillSync(out);
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  pool.copy(out, 0, offset, offset + size);
  pool.fill(0, offset, offset + size);
  offset += size;
  return out;
}
