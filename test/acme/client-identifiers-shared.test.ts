/**
 * One-time ClientIdentifiers shared by two daemons: two `AcmeClientIdentifiers` over two
 * connections to one SQLite file, and over two pools on one PostgreSQL database. A value issued
 * by one is ordered through the other, owned by its first account on both, used up once by
 * racing finalizes across both, and the attested device recorded by one is what the other's MDM
 * core reads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  createAcmeClientIdentifiers,
  type AcmeClientIdentifiers,
} from '../../src/acme/client-identifiers.js';
import type { AcmeIssuedEvent } from '../../src/acme/types.js';
import { openPostgresAcmeClientIdStore } from '../../src/storage/postgres/acme-identifiers.js';
import type { AcmeClientIdStore, AcmeOrderRecord } from '../../src/storage/ports.js';
import { openSqliteAcmeClientIdStore } from '../../src/storage/sqlite/acme-identifiers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

type Closable = AcmeClientIdStore & { close(): void | Promise<void> };

const identifier = (value: string) => ({ type: 'permanent-identifier', value });

function order(id: string, accountId: string, value: string): AcmeOrderRecord {
  return {
    id,
    accountId,
    status: 'processing',
    identifiers: [identifier(value)],
    authorizationIds: [`authz-${id}`],
    enrollmentId: 'enrollment-token:link-1',
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 3_600_000),
  };
}

function issued(o: AcmeOrderRecord, serial: string): AcmeIssuedEvent {
  return {
    order: o,
    authorizations: [
      {
        id: `authz-${o.id}`,
        orderId: o.id,
        accountId: o.accountId,
        identifier: o.identifiers[0] ?? identifier(''),
        status: 'valid',
        expiresAt: o.expiresAt,
        attestedUdid: 'UDID-X',
        attestedSerial: 'SERIAL-X',
      },
    ],
    certificate: {
      serial,
      subject: 'CN=acme-device',
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 86_400_000),
      issuedAt: new Date(),
      der: Buffer.alloc(0),
    },
  };
}

/** Registers the shared-daemon cases over two stores `open()` makes on one database. */
function sharedCases(name: string, open: () => Promise<[Closable, Closable]>): void {
  test(`ok/${name}: issued by one, ordered through the other, used once, attested device read back`, async () => {
    const [sa, sb] = await open();
    try {
      const a: AcmeClientIdentifiers = createAcmeClientIdentifiers({ store: sa });
      const b: AcmeClientIdentifiers = createAcmeClientIdentifiers({ store: sb });
      const value = await a.issue({ enrollmentId: 'enrollment-token:link-1' });
      expect(await b.authorize({ identifier: identifier(value), accountId: 'acct-1' })).toEqual({
        enrollmentId: 'enrollment-token:link-1',
      });
      expect(
        await a.authorize({ identifier: identifier(value), accountId: 'acct-2' }),
      ).toBeUndefined();
      expect(await a.checkAttested(value, { udid: 'UDID-X' })).toBe(true);
      const first = order('o1', 'acct-1', value);
      const second = order('o2', 'acct-1', value);
      const uses = await Promise.all([a.use(first), b.use(second), a.use(second), b.use(first)]);
      expect(uses.filter(Boolean)).toHaveLength(1);
      await b.onIssued(issued(first, '00AB12'));
      expect(await a.attestedDeviceOf('ab12')).toEqual({ udid: 'UDID-X', serial: 'SERIAL-X' });
      expect(await a.attestedDeviceOf('AB13')).toBeUndefined();
      expect(
        await b.authorize({ identifier: identifier(value), accountId: 'acct-1' }),
      ).toBeUndefined();
      expect(await b.checkAttested(value, { udid: 'UDID-X' })).toBe(false);
    } finally {
      await sa.close();
      await sb.close();
    }
  });
}

describe('ClientIdentifiers shared by two daemons', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-ids-shared-'));
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('ids_shared');
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  sharedCases('SQLite', () => {
    const path = join(dir, 'shared.db');
    return Promise.resolve([
      openSqliteAcmeClientIdStore({ path }),
      openSqliteAcmeClientIdStore({ path }),
    ]);
  });

  sharedCases('PostgreSQL', async () => [
    await openPostgresAcmeClientIdStore({ url: db.url, pool: { max: 2 } }),
    await openPostgresAcmeClientIdStore({ url: db.url, pool: { max: 2 } }),
  ]);
});
