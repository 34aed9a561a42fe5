/**
 * The conformance suite of {@link AcmeClientIdStore}, which the memory, SQLite and PostgreSQL
 * adapters must pass: a value binds to the first account that claims it and to no other, is used
 * up once (of racing callers exactly one wins), and neither a used nor an expired value is live;
 * attested devices are kept until their certificate expires. Call
 * `runAcmeClientIdConformance(name, factory)` from a `*.test.ts`.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { AcmeClientIdRecord, AcmeClientIdStore } from '../../src/storage/ports.js';

/** A ClientIdentifier store with a `close`. */
export type ClosableClientIdStore = AcmeClientIdStore & { close(): void | Promise<void> };

/** Makes a fresh, empty store. */
export type ClientIdStoreFactory = () => ClosableClientIdStore | Promise<ClosableClientIdStore>;

const T0 = new Date('2026-12-01T10:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

/** A value `digest` issued at T0 for one hour. */
export function clientId(digest: string, extra: Partial<AcmeClientIdRecord> = {}) {
  return {
    digest,
    enrollmentId: `enrollment-token:${digest}`,
    createdAt: T0,
    expiresAt: at(3600),
    ...extra,
  } satisfies AcmeClientIdRecord;
}

/** Registers the suite for one adapter. */
export function runAcmeClientIdConformance(name: string, factory: ClientIdStoreFactory): void {
  describe(`AcmeClientIdStore conformance: ${name}`, () => {
    let store: ClosableClientIdStore;
    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    test('ok/a stored value reads back live with every field; an unknown one does not', async () => {
      const record = clientId('d1', { expectedUdid: 'UDID-1', expectedSerial: 'SER1' });
      await store.putClientId(record);
      expect(await store.findLiveClientId('d1', at(1))).toEqual(record);
      expect(await store.findLiveClientId('nope', at(1))).toBeUndefined();
      await expect(store.putClientId(clientId('d1'))).rejects.toThrow(TypeError);
    });

    test('ok/the first account claims a value; it may claim again; another account may not', async () => {
      await store.putClientId(clientId('d2'));
      expect((await store.claimClientId('d2', 'acct-a', at(1)))?.accountId).toBe('acct-a');
      expect((await store.claimClientId('d2', 'acct-a', at(2)))?.accountId).toBe('acct-a');
      expect(await store.claimClientId('d2', 'acct-b', at(3))).toBeUndefined();
      expect((await store.findLiveClientId('d2', at(4)))?.accountId).toBe('acct-a');
    });

    test('fail/an expired value is neither live nor claimable nor usable', async () => {
      await store.putClientId(clientId('d3'));
      expect(await store.claimClientId('d3', 'acct-a', at(3600))).toBeUndefined();
      expect(await store.findLiveClientId('d3', at(3600))).toBeUndefined();
      await store.putClientId(clientId('d3b'));
      await store.claimClientId('d3b', 'acct-a', at(1));
      expect(await store.useClientId('d3b', 'acct-a', at(3601))).toBe(false);
    });

    test('ok/a value is used up once, by its account only; then nothing is live', async () => {
      await store.putClientId(clientId('d4'));
      expect(await store.useClientId('d4', 'acct-a', at(1))).toBe(false); // not claimed yet
      await store.claimClientId('d4', 'acct-a', at(1));
      expect(await store.useClientId('d4', 'acct-b', at(2))).toBe(false);
      expect(await store.useClientId('d4', 'acct-a', at(2))).toBe(true);
      expect(await store.useClientId('d4', 'acct-a', at(3))).toBe(false);
      expect(await store.findLiveClientId('d4', at(3))).toBeUndefined();
      expect(await store.claimClientId('d4', 'acct-a', at(3))).toBeUndefined();
    });

    test('ok/of twenty racing claims by different accounts one account owns the value', async () => {
      await store.putClientId(clientId('d5'));
      const got = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.claimClientId('d5', `acct-${String(i)}`, at(1))),
      );
      const owners = new Set(got.filter((g) => g !== undefined).map((g) => g.accountId));
      expect(owners.size).toBe(1);
      expect(got.filter((g) => g !== undefined)).toHaveLength(1);
    });

    test('ok/of twenty racing uses exactly one wins', async () => {
      await store.putClientId(clientId('d6'));
      await store.claimClientId('d6', 'acct-a', at(1));
      const used = await Promise.all(
        Array.from({ length: 20 }, () => store.useClientId('d6', 'acct-a', at(2))),
      );
      expect(used.filter(Boolean)).toHaveLength(1);
    });

    test('ok/attested devices read back by serial, are replaced, and purge with their certificate', async () => {
      await store.putAttestedDevice({
        certificateSerial: '1a2b',
        udid: 'UDID-X',
        serial: 'SER-X',
        expiresAt: at(86_400),
      });
      await store.putAttestedDevice({ certificateSerial: '3c', serial: 'MAC1', expiresAt: at(10) });
      expect(await store.findAttestedDevice('1a2b')).toEqual({
        certificateSerial: '1a2b',
        udid: 'UDID-X',
        serial: 'SER-X',
        expiresAt: at(86_400),
      });
      expect(await store.findAttestedDevice('3c')).toEqual({
        certificateSerial: '3c',
        serial: 'MAC1',
        expiresAt: at(10),
      });
      expect(await store.findAttestedDevice('ff')).toBeUndefined();
      await store.putAttestedDevice({ certificateSerial: '3c', udid: 'U2', expiresAt: at(20) });
      expect(await store.findAttestedDevice('3c')).toEqual({
        certificateSerial: '3c',
        udid: 'U2',
        expiresAt: at(20),
      });
      await store.putClientId(clientId('old', { expiresAt: at(5) }));
      await store.putClientId(clientId('new'));
      expect(await store.purgeClientIds(at(20))).toEqual({ clientIds: 1, attestedDevices: 1 });
      expect(await store.findAttestedDevice('3c')).toBeUndefined();
      expect(await store.findAttestedDevice('1a2b')).toBeDefined();
      expect(await store.findLiveClientId('new', at(21))).toBeDefined();
      expect(await store.purgeClientIds(at(20))).toEqual({ clientIds: 0, attestedDevices: 0 });
    });

    test('fail/misuse is a TypeError; a closed store rejects', async () => {
      await expect(store.putClientId(clientId(''))).rejects.toThrow(TypeError);
      await expect(store.findLiveClientId('d', new Date(Number.NaN))).rejects.toThrow(TypeError);
      await expect(store.claimClientId('d', '', at(1))).rejects.toThrow(TypeError);
      await store.close();
      await expect(store.findAttestedDevice('1')).rejects.toThrow();
    });
  });
}
