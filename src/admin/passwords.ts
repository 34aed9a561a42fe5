/**
 * Password hashing for the portal and the console: scrypt from node:crypto (N = 2^15, r = 8,
 * p = 1, a 16-byte salt, a 32-byte key), stored self-describing as
 * `scrypt$15$8$1$<salt base64>$<hash base64>` and compared in constant time. Unknown logins are
 * checked against a dummy hash, so the answer takes as long either way.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** The shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 12;
/** The longest password accepted (bounds the work an attacker can ask for). */
export const MAX_PASSWORD_LENGTH = 1024;

const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function derive(
  password: string,
  salt: Buffer,
  logN: number,
  r: number,
  p: number,
): Promise<Buffer> {
  // 128 * N * r bytes are needed; leave room above Node's 32 MiB default.
  const options: ScryptOptions = { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

/**
 * What is wrong with a new password, in plain words, or `undefined` when it is acceptable
 * (at least {@link MIN_PASSWORD_LENGTH} UTF-16 code units, at most {@link MAX_PASSWORD_LENGTH}).
 */
export function passwordProblem(password: string): string | undefined {
  const length = password.normalize('NFC').length;
  if (length < MIN_PASSWORD_LENGTH)
    return `The password must have at least ${String(MIN_PASSWORD_LENGTH)} characters.`;
  if (length > MAX_PASSWORD_LENGTH)
    return `The password must have at most ${String(MAX_PASSWORD_LENGTH)} characters.`;
  return undefined;
}

/** Hashes `password` with a fresh salt; resolves the self-describing string to store. */
export async function hashPassword(
  password: string,
  random: (n: number) => Buffer = randomBytes,
): Promise<string> {
  const salt = random(SALT_LENGTH);
  const key = await derive(password, salt, LOG_N, R, P);
  return ['scrypt', LOG_N, R, P, salt.toString('base64'), key.toString('base64')].join('$');
}

interface Parsed {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

const small = (text: string | undefined, max: number): number | undefined => {
  const n = text !== undefined && /^\d{1,2}$/.test(text) ? Number(text) : NaN;
  return n >= 1 && n <= max ? n : undefined;
};

function parse(stored: string): Parsed | undefined {
  const [scheme, logN, r, p, salt, key] = stored.split('$');
  const params = [small(logN, 20), small(r, 32), small(p, 16)];
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return undefined;
  const [n, rr, pp] = params;
  if (n === undefined || rr === undefined || pp === undefined) return undefined;
  const keyBytes = Buffer.from(key, 'base64');
  if (keyBytes.length !== KEY_LENGTH) return undefined;
  return { logN: n, r: rr, p: pp, salt: Buffer.from(salt, 'base64'), key: keyBytes };
}

/**
 * Whether `password` matches `stored` (a string {@link hashPassword} made). A malformed stored
 * value, or a password past {@link MAX_PASSWORD_LENGTH}, is no match.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (parsed === undefined) return false;
  // Same work for an over-long password: hash a stand-in, then answer no.
  const tooLong = password.length > MAX_PASSWORD_LENGTH * 2;
  const key = await derive(tooLong ? '' : password, parsed.salt, parsed.logN, parsed.r, parsed.p);
  return timingSafeEqual(key, parsed.key) && !tooLong;
}

let dummy: Promise<string> | undefined;

/**
 * Checks `password` against a hash no password matches (made once per process), taking as long
 * as a real check: what a sign-in does for an unknown login. Always resolves false.
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(24).toString('base64'));
  await verifyPassword(password, await dummy);
  return false;
}
