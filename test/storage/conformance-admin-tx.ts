/**
 * Admin conformance: `transaction`. Its writes are kept together or not at all; a nested call is
 * a savepoint; a function returning a promise is refused (a synchronous store cannot hold a
 * transaction open across an await).
 */
import { describe, expect, test } from '@jest/globals';
import { AdminError } from '../../src/errors.js';
import type { AdminStorage } from '../../src/storage/ports.js';
import type { AdminSuiteContext } from './conformance-admin.js';

/** One write of every kind, so a rollback test sees each undone. */
function writeEverything(store: AdminStorage, linkId: string, keyId: string): void {
  store.createApiKey({ name: 'tx', scope: 'write', hash: 'tx-key' });
  store.revokeApiKey(keyId);
  store.audit({ actor: 'tx', action: 'tx.write', target: 't', detail: { n: 1 } });
  store.createEnrollmentToken({ hash: 'tx-link', singleUse: true });
  store.downloadEnrollmentToken('h-link', new Date(0));
  store.redeemEnrollmentToken(linkId, new Date(0));
  store.revokeEnrollmentToken(linkId);
  store.setMeta('existing', 'changed');
  store.setMeta('fresh', 'value');
}

/** What a rollback test compares before and after. */
function snapshot(store: AdminStorage): unknown {
  return {
    keys: store.listApiKeys(),
    active: store.listActiveApiKeys(),
    audit: store.listAudit({ limit: 100 }),
    links: store.listEnrollmentTokens({ limit: 100 }),
    meta: [store.getMeta('existing'), store.getMeta('fresh')],
  };
}

function seed(store: AdminStorage): { linkId: string; keyId: string } {
  const keyId = store.createApiKey({ name: 'kept', scope: 'read', hash: 'h-key' }).id;
  const linkId = store.createEnrollmentToken({ hash: 'h-link', singleUse: true }).id;
  store.audit({ actor: 'seed', action: 'seed', target: 's', detail: {} });
  store.setMeta('existing', 'original');
  return { linkId, keyId };
}

/** Registers the transaction cases. */
export function adminTransactionSuite(ctx: AdminSuiteContext): void {
  describe('transaction', () => {
    test('ok/the result of the function is returned and its writes are kept', () => {
      const store = ctx.store();
      const { linkId, keyId } = seed(store);
      const result = store.transaction(() => {
        writeEverything(store, linkId, keyId);
        return 'done';
      });
      expect(result).toBe('done');
      expect(store.findEnrollmentToken(linkId)).toMatchObject({ uses: 1, enrollments: 1 });
      expect(store.findApiKeyByHash('h-key')).toBeUndefined();
      expect(store.findApiKeyByHash('tx-key')).toBeDefined();
      expect(store.listAudit({ limit: 10 }).items).toHaveLength(2);
      expect(store.getMeta('fresh')).toBe('value');
    });

    test('fail/a function that throws undoes every write and its error reaches the caller', () => {
      const store = ctx.store();
      const { linkId, keyId } = seed(store);
      const before = snapshot(store);
      const boom = new TypeError('boom');
      expect(() =>
        store.transaction(() => {
          writeEverything(store, linkId, keyId);
          throw boom;
        }),
      ).toThrow(boom);
      expect(snapshot(store)).toEqual(before);
      const next = store.audit({ actor: 'a', action: 'after', target: 't', detail: {} });
      const seeded = store.listAudit({ limit: 10 }).items.at(-1);
      expect(next.seq).toBe((seeded?.seq ?? 0) + 1);
    });

    test('fail/an OrchardError thrown by the function reaches the caller as it is', () => {
      const store = ctx.store();
      const refused = new AdminError('ERR_CONFLICT', 'refused by the caller');
      expect(() =>
        store.transaction(() => {
          store.setMeta('k', 'v');
          throw refused;
        }),
      ).toThrow(refused);
      expect(store.getMeta('k')).toBeUndefined();
    });

    test('ok/a nested failure caught inside undoes only the nested writes', () => {
      const store = ctx.store();
      const { linkId } = seed(store);
      store.transaction(() => {
        store.setMeta('outer', 'kept');
        expect(() =>
          store.transaction(() => {
            store.redeemEnrollmentToken(linkId, new Date(0));
            store.setMeta('inner', 'gone');
            throw new TypeError('inner');
          }),
        ).toThrow('inner');
        store.downloadEnrollmentToken('h-link', new Date(0));
      });
      expect(store.getMeta('outer')).toBe('kept');
      expect(store.getMeta('inner')).toBeUndefined();
      expect(store.findEnrollmentToken(linkId)).toMatchObject({ uses: 1, enrollments: 0 });
    });

    test('fail/a nested failure left uncaught undoes the outer writes too', () => {
      const store = ctx.store();
      seed(store);
      expect(() =>
        store.transaction(() => {
          store.setMeta('outer', 'x');
          store.transaction(() => {
            store.setMeta('inner', 'y');
          });
          throw new TypeError('late');
        }),
      ).toThrow('late');
      expect([store.getMeta('outer'), store.getMeta('inner')]).toEqual([undefined, undefined]);
    });

    test('fail/a function returning a promise is a TypeError and its writes are undone', () => {
      const store = ctx.store();
      seed(store);
      expect(() =>
        store.transaction(() => {
          store.setMeta('async', 'x');
          return Promise.resolve(1);
        }),
      ).toThrow(TypeError);
      expect(store.getMeta('async')).toBeUndefined();
    });
  });
}
