/**
 * The ACME storage conformance suite ({@link AcmeStore}), which every adapter (memory, SQLite,
 * later PostgreSQL) must pass: nonces consumed once, atomically, and only before they expire;
 * one account per key; transitions that move a record only from the statuses they name, so of
 * racing callers exactly one wins; orders purged with their authorizations and challenges.
 * Call `runAcmeConformance(name, factory)` from a `*.test.ts`.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type {
  AcmeAccountRecord,
  AcmeAuthorizationRecord,
  AcmeChallengeRecord,
  AcmeOrderRecord,
  AcmeStore,
} from '../../src/storage/ports.js';

/** An ACME store with a `close`. */
export type ClosableAcmeStore = AcmeStore & { close(): void | Promise<void> };

/** Makes a fresh, empty store. */
export type AcmeStoreFactory = () => ClosableAcmeStore | Promise<ClosableAcmeStore>;

const T0 = new Date('2026-12-01T10:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

/** An account record with key thumbprint `thumbprint`. */
export function accountRecord(id: string, thumbprint: string): AcmeAccountRecord {
  return {
    id,
    thumbprint,
    jwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: thumbprint, y: id }),
    status: 'valid',
    contact: ['mailto:ops@example.com'],
    createdAt: T0,
  };
}

/** An order `id` of `accountId` with one authorization and two challenges, expiring at +1 h. */
export function orderFixture(id: string, accountId = 'acct-1') {
  const authz: AcmeAuthorizationRecord = {
    id: `${id}-authz`,
    orderId: id,
    accountId,
    identifier: { type: 'permanent-identifier', value: `client-${id}` },
    status: 'pending',
    expiresAt: at(3600),
  };
  const challenges: AcmeChallengeRecord[] = ['device-attest-01', 'test-01'].map((type, i) => ({
    id: `${id}-chall-${String(i)}`,
    authorizationId: authz.id,
    accountId,
    type,
    token: `token-${id}-${String(i)}`,
    status: 'pending',
  }));
  const order: AcmeOrderRecord = {
    id,
    accountId,
    status: 'pending',
    identifiers: [authz.identifier],
    authorizationIds: [authz.id],
    enrollmentId: `enrollment-token:${id}`,
    createdAt: T0,
    expiresAt: at(3600),
  };
  return { order, authz, challenges };
}

async function seedOrder(store: AcmeStore, id: string) {
  const f = orderFixture(id);
  await store.createOrder(f.order, [f.authz], f.challenges);
  return f;
}

/** Registers the suite for `name` over stores from `factory`. */
export function runAcmeConformance(name: string, factory: AcmeStoreFactory): void {
  describe(`ACME storage conformance: ${name}`, () => {
    let store: ClosableAcmeStore;
    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('nonces', () => {
      test('ok/a nonce is consumed once', async () => {
        await store.putNonce('n1', at(60));
        expect(await store.consumeNonce('n1', T0)).toBe(true);
        expect(await store.consumeNonce('n1', T0)).toBe(false);
      });

      test('fail/an unknown nonce is not consumed', async () => {
        expect(await store.consumeNonce('never-issued', T0)).toBe(false);
      });

      test('fail/an expired nonce is refused, and gone', async () => {
        await store.putNonce('n2', at(60));
        expect(await store.consumeNonce('n2', at(60))).toBe(false);
        await store.putNonce('n3', at(60));
        expect(await store.purgeAcme(at(61), T0)).toEqual({ nonces: 1, orders: 0 });
        expect(await store.consumeNonce('n3', T0)).toBe(false);
      });

      test('ok/of ten concurrent consumers of one nonce exactly one wins', async () => {
        await store.putNonce('race', at(60));
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, () => store.consumeNonce('race', T0)),
        );
        expect(outcomes.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('accounts', () => {
      test('ok/an account is found by id and by thumbprint', async () => {
        const created = await store.createAccount(accountRecord('acct-1', 'thumb-1'));
        expect(created).toEqual(accountRecord('acct-1', 'thumb-1'));
        expect(await store.findAccount('acct-1')).toEqual(created);
        expect(await store.findAccountByThumbprint('thumb-1')).toEqual(created);
        expect(await store.findAccount('acct-2')).toBeUndefined();
      });

      test('ok/a second account with the same key resolves the first', async () => {
        await store.createAccount(accountRecord('acct-1', 'thumb-1'));
        const again = await store.createAccount(accountRecord('acct-2', 'thumb-1'));
        expect(again.id).toBe('acct-1');
        expect(await store.findAccount('acct-2')).toBeUndefined();
      });

      test('ok/contact changes and deactivation is final', async () => {
        await store.createAccount(accountRecord('acct-1', 'thumb-1'));
        const changed = await store.updateAccount('acct-1', { contact: ['mailto:a@b.c'] });
        expect(changed?.contact).toEqual(['mailto:a@b.c']);
        expect((await store.updateAccount('acct-1', { status: 'deactivated' }))?.status).toBe(
          'deactivated',
        );
        expect(await store.updateAccount('acct-1', { status: 'valid' })).toBeUndefined();
      });

      test('ok/a key change needs the current key; a taken key is a conflict', async () => {
        await store.createAccount(accountRecord('acct-1', 'thumb-1'));
        await store.createAccount(accountRecord('acct-2', 'thumb-2'));
        const next = { thumbprint: 'thumb-3', jwk: '{"kty":"EC"}' };
        expect(await store.changeAccountKey('acct-1', 'thumb-1', next)).toBe('changed');
        expect(await store.changeAccountKey('acct-1', 'thumb-1', next)).toBe('stale');
        expect((await store.findAccountByThumbprint('thumb-3'))?.id).toBe('acct-1');
        expect(await store.findAccountByThumbprint('thumb-1')).toBeUndefined();
        const taken = { thumbprint: 'thumb-2', jwk: '{}' };
        expect(await store.changeAccountKey('acct-1', 'thumb-3', taken)).toBe('conflict');
        expect(await store.changeAccountKey('nobody', 'thumb-3', next)).toBe('stale');
      });
    });

    describe('orders', () => {
      test('ok/an order, its authorization and challenges read back as stored', async () => {
        const f = await seedOrder(store, 'o1');
        expect(await store.findOrder('o1')).toEqual(f.order);
        expect(await store.findAuthorization(f.authz.id)).toEqual(f.authz);
        expect(await store.listChallenges(f.authz.id)).toEqual(f.challenges);
        expect(await store.findChallenge(f.challenges[1]?.id ?? '')).toEqual(f.challenges[1]);
        expect(await store.findOrder('o2')).toBeUndefined();
      });

      test('ok/transitions move only from the named statuses', async () => {
        const f = await seedOrder(store, 'o1');
        expect(await store.updateOrder('o1', ['ready'], { status: 'processing' })).toBeUndefined();
        expect((await store.updateOrder('o1', ['pending'], { status: 'ready' }))?.status).toBe(
          'ready',
        );
        const valid = await store.updateOrder('o1', ['processing', 'ready'], {
          status: 'valid',
          certificateSerial: '4abc',
        });
        expect(valid).toMatchObject({ status: 'valid', certificateSerial: '4abc' });
        const key = Buffer.from([1, 2, 3]);
        const authz = await store.updateAuthorization(f.authz.id, ['pending'], {
          status: 'valid',
          boundKey: key,
          attestedSerial: 'C02XYZ',
          attestedUdid: 'UDID-1',
        });
        expect(authz).toMatchObject({ status: 'valid', attestedSerial: 'C02XYZ' });
        expect(Buffer.from(authz?.boundKey ?? []).equals(key)).toBe(true);
        const problem = {
          type: 'urn:ietf:params:acme:error:incorrectResponse',
          detail: 'x',
          status: 400,
        };
        const chall = await store.updateChallenge(f.challenges[0]?.id ?? '', ['pending'], {
          status: 'invalid',
          error: problem,
          validatedAt: at(5),
        });
        expect(chall).toMatchObject({ status: 'invalid', error: problem, validatedAt: at(5) });
      });

      test('ok/of ten concurrent finalizers exactly one moves the order to processing', async () => {
        await seedOrder(store, 'o1');
        await store.updateOrder('o1', ['pending'], { status: 'ready' });
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.updateOrder('o1', ['ready'], { status: 'processing' }),
          ),
        );
        expect(outcomes.filter((o) => o !== undefined)).toHaveLength(1);
      });

      test('fail/a transition from no status is API misuse', async () => {
        await seedOrder(store, 'o1');
        await expect(store.updateOrder('o1', [], { status: 'ready' })).rejects.toThrow(TypeError);
      });

      test('ok/expired orders go with their authorizations and challenges; valid ones stay longer', async () => {
        const a = await seedOrder(store, 'o1');
        await seedOrder(store, 'o2');
        await store.updateOrder('o2', ['pending'], { status: 'valid' });
        expect(await store.purgeAcme(at(3599), at(0))).toEqual({ nonces: 0, orders: 0 });
        expect(await store.purgeAcme(at(3600), at(0))).toEqual({ nonces: 0, orders: 1 });
        expect(await store.findOrder('o1')).toBeUndefined();
        expect(await store.findAuthorization(a.authz.id)).toBeUndefined();
        expect(await store.listChallenges(a.authz.id)).toEqual([]);
        expect(await store.findOrder('o2')).toBeDefined();
        expect(await store.purgeAcme(at(3600), at(3600))).toEqual({ nonces: 0, orders: 1 });
        expect(await store.findOrder('o2')).toBeUndefined();
      });
    });

    test('fail/a closed store rejects', async () => {
      await store.close();
      await expect(store.consumeNonce('n', T0)).rejects.toThrow();
      store = await factory();
    });
  });
}
