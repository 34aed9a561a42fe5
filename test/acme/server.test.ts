/**
 * The ACME core in process, without HTTP: options checked at creation, the unsigned resources,
 * and the sweep the server starts itself every 1000 nonces.
 */
import { describe, expect, test } from '@jest/globals';
import { createAcmeServer } from '../../src/acme/server.js';
import { createCa } from '../../src/identity/ca/authority.js';
import { createMemoryAcmeStore } from '../../src/storage/memory/acme.js';
import { createMemoryCaStorage } from '../../src/storage/memory/ca.js';
import { testPki } from '../support/pki.js';

async function parts() {
  const pki = await testPki();
  const ca = createCa({
    material: { certificate: pki.rsaCa.certificate, privateKey: pki.rsaCa.privateKey },
    store: createMemoryCaStorage().certificates,
  });
  const store = createMemoryAcmeStore();
  return { ca, store, authorizeIdentifier: () => Promise.resolve({}) };
}

describe('createAcmeServer', () => {
  test('fail/no identifier policy, or a zero lifetime: TypeError', async () => {
    const deps = await parts();
    const base = { baseUrl: 'https://mdm.example.com/acme' };
    expect(() =>
      createAcmeServer({ ...deps, authorizeIdentifier: undefined as never }, base),
    ).toThrow(TypeError);
    expect(() => createAcmeServer(deps, { ...base, nonceTtlSeconds: 0 })).toThrow(TypeError);
  });

  test('ok/the directory and new-nonce need no signature', async () => {
    const acme = createAcmeServer(await parts(), { baseUrl: 'https://mdm.example.com/acme/' });
    const dir = await acme.handle({ method: 'GET', path: '/directory', body: new Uint8Array(0) });
    expect(dir.body).toEqual({
      json: expect.objectContaining({ newOrder: 'https://mdm.example.com/acme/new-order' }),
    });
    expect(
      (await acme.handle({ method: 'HEAD', path: '/new-nonce', body: new Uint8Array(0) })).status,
    ).toBe(200);
    expect(acme.directoryUrl()).toBe('https://mdm.example.com/acme/directory');
  });

  test('fail/a signed request while the base URL is unset is a server fault, not a pass', async () => {
    const acme = createAcmeServer(await parts(), { baseUrl: () => '' });
    const request = {
      method: 'POST',
      path: '/new-order',
      contentType: 'application/jose+json',
      body: Buffer.from('{}'),
    };
    await expect(acme.handle(request)).rejects.toThrow(TypeError);
  });

  test('ok/every 1000th nonce starts a sweep of expired ones', async () => {
    const deps = await parts();
    let now = new Date('2026-12-07T00:00:00Z');
    const acme = createAcmeServer(
      { ...deps, clock: () => now },
      { baseUrl: 'https://x.example/acme', nonceTtlSeconds: 60 },
    );
    let sweeps = 0;
    const purge = deps.store.purgeAcme.bind(deps.store);
    deps.store.purgeAcme = (a, b) => {
      sweeps += 1;
      return purge(a, b);
    };
    const first = await acme.newNonce();
    now = new Date(now.getTime() + 61_000);
    for (let i = 0; i < 998; i++) await acme.newNonce();
    expect(sweeps).toBe(0);
    await acme.newNonce();
    expect(sweeps).toBe(1);
    expect(await purge(now, now)).toEqual({ nonces: 0, orders: 0 });
    expect(await deps.store.consumeNonce(first, new Date(0))).toBe(false);
  });
});
