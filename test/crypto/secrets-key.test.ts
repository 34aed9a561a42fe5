/** The secrets keyring: sealing layout, binding to purpose and enrollment, rotation, key file. */
import { describe, expect, test } from '@jest/globals';
import {
  addSecretsKey,
  createSecretsKeyring,
  decodeSecretsKeyFile,
  encodeSecretsKeyFile,
  sealerFor,
  type SecretsKey,
} from '../../src/index.js';

const key = (id: number, fill: number): SecretsKey => ({
  id,
  key: new Uint8Array(32).fill(fill),
  createdAt: new Date(Date.UTC(2026, 0, id)),
});
let counter = 0;
/** Deterministic, distinct nonces. */
const random = (n: number): Uint8Array => new Uint8Array(n).fill(++counter % 256);
const ring = createSecretsKeyring([key(1, 1)], { random });
const secret = Buffer.from('unlock token bytes');

describe('secrets keyring', () => {
  test('ok/seal then open; version, key id and a fresh 96-bit nonce per value', () => {
    const a = ring.seal('unlock-token', 'DEV-A', secret);
    const b = ring.seal('unlock-token', 'DEV-A', secret);
    expect([a[0], a[1]]).toEqual([1, 1]);
    expect(a.length).toBe(2 + 12 + secret.length + 16);
    expect(Buffer.from(a.subarray(2, 14))).not.toEqual(Buffer.from(b.subarray(2, 14)));
    expect(Buffer.from(a).includes(secret)).toBe(false);
    expect(Buffer.from(ring.open('unlock-token', 'DEV-A', a))).toEqual(secret);
    expect(ring.keyIdOf(a)).toBe(1);
    expect(ring.keyIdOf(new Uint8Array(3))).toBeUndefined();
  });

  const sealed = ring.seal('unlock-token', 'DEV-A', secret);
  const flipped = Uint8Array.from(sealed);
  flipped[20] = (flipped[20] ?? 0) ^ 1;
  const otherKey = Uint8Array.from(sealed);
  otherKey[1] = 9;
  test.each([
    ["fail/another enrollment's row", 'unlock-token', 'DEV-B', sealed, 'ERR_SECRET_OPEN'],
    ['fail/another purpose', 'bootstrap-token', 'DEV-A', sealed, 'ERR_SECRET_OPEN'],
    ['fail/an altered byte', 'unlock-token', 'DEV-A', flipped, 'ERR_SECRET_OPEN'],
    ['fail/truncated', 'unlock-token', 'DEV-A', sealed.subarray(0, 20), 'ERR_SECRET_OPEN'],
    ['fail/plain text', 'unlock-token', 'DEV-A', secret, 'ERR_SECRET_OPEN'],
    ['fail/a key the ring lacks', 'unlock-token', 'DEV-A', otherKey, 'ERR_SECRET_UNKNOWN_KEY'],
  ] as const)('%s does not open', (_name, purpose, id, value, code) => {
    expect(() => ring.open(purpose, id, value)).toThrow(
      expect.objectContaining({ code, status: 500 }),
    );
  });

  test('ok/a new key seals; the old one still opens what it sealed', () => {
    const next = addSecretsKey(ring, { random, clock: () => new Date(0) });
    expect(next.keyIds).toEqual([1, 2]);
    expect(next.currentKeyId).toBe(2);
    expect(Buffer.from(next.open('unlock-token', 'DEV-A', sealed))).toEqual(secret);
    const resealed = next.seal('unlock-token', 'DEV-A', secret);
    expect(next.keyIdOf(resealed)).toBe(2);
    expect(() => ring.open('unlock-token', 'DEV-A', resealed)).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_UNKNOWN_KEY' }),
    );
    expect(next.fingerprint(1)).toBe(ring.fingerprint(1));
    expect(next.fingerprint(2)).not.toBe(ring.fingerprint(1));
    expect(next.fingerprint(3)).toBeUndefined();
  });

  test('ok/a purpose sealer is the MDM core bootstrapSealer shape', () => {
    const sealer = sealerFor(ring, 'bootstrap-token');
    const value = sealer.seal('DEV-A', secret);
    expect(Buffer.from(sealer.open('DEV-A', value))).toEqual(secret);
    expect(() => sealer.open('DEV-B', value)).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_OPEN' }),
    );
  });

  test.each([
    ['fail/no key', () => createSecretsKeyring([])],
    ['fail/a 16-byte key', () => createSecretsKeyring([{ id: 1, key: new Uint8Array(16) }])],
    ['fail/key id 0', () => createSecretsKeyring([key(0, 1)])],
    ['fail/key id 256', () => createSecretsKeyring([key(256, 1)])],
    ['fail/a duplicate id', () => createSecretsKeyring([key(1, 1), key(1, 2)])],
    ['fail/a current id not in the ring', () => createSecretsKeyring([key(1, 1)], { current: 2 })],
  ])('%s is a TypeError', (_name, make) => {
    expect(make).toThrow(TypeError);
  });
});

describe('secrets key file', () => {
  test('ok/encode then decode keeps every key, the current one and the creation dates', () => {
    const two = createSecretsKeyring([key(1, 1), key(2, 2)], { current: 1 });
    const text = encodeSecretsKeyFile(two);
    const back = decodeSecretsKeyFile(text);
    expect(back.keyIds).toEqual([1, 2]);
    expect(back.currentKeyId).toBe(1);
    expect(back.exportKeys()).toEqual(two.exportKeys());
    expect(back.fingerprint(2)).toBe(two.fingerprint(2));
  });

  const good = JSON.parse(encodeSecretsKeyFile(ring)) as Record<string, unknown>;
  const material = Buffer.alloc(32, 1).toString('base64');
  test.each([
    ['fail/not JSON', 'secret'],
    ['fail/an array', '[]'],
    ['fail/another format', JSON.stringify({ ...good, orchardSecretsKeys: 2 })],
    ['fail/no keys', JSON.stringify({ ...good, keys: [] })],
    ['fail/a short key', JSON.stringify({ ...good, keys: [{ id: 1, key: 'AAAA' }] })],
    ['fail/a key id of 0', JSON.stringify({ ...good, keys: [{ id: 0, key: material }] })],
    [
      'fail/a duplicate id',
      JSON.stringify({
        ...good,
        keys: [
          { id: 1, key: material },
          { id: 1, key: material },
        ],
      }),
    ],
    ['fail/a current key that is absent', JSON.stringify({ ...good, current: 7 })],
    [
      'fail/a bad date',
      JSON.stringify({ ...good, keys: [{ id: 1, key: material, createdAt: 'x' }] }),
    ],
  ])('%s is ERR_SECRETS_KEY and never echoes key material', (_name, text) => {
    let thrown: unknown;
    try {
      decodeSecretsKeyFile(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'ERR_SECRETS_KEY' });
    expect((thrown as Error).message).not.toContain(material);
  });

  test('fail/no key id after 255', () => {
    const last = createSecretsKeyring([key(255, 1)]);
    expect(() => addSecretsKey(last)).toThrow(expect.objectContaining({ code: 'ERR_SECRETS_KEY' }));
  });
});
