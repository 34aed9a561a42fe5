/**
 * The ClientIdentifier storage conformance suite against PostgreSQL, plus what only several pools
 * show: two daemons racing to claim and to use up one value, exactly one winning each.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openPostgresAcmeClientIdStore } from '../../src/storage/postgres/acme-identifiers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { clientId, runAcmeClientIdConformance } from './conformance-acme-identifiers.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('acme_ids');
});

afterAll(async () => {
  await db.drop();
});

runAcmeClientIdConformance('postgres', async () => {
  await db.reset();
  return openPostgresAcmeClientIdStore({ url: db.url, pool: { max: 4 } });
});

describe('ClientIdentifiers on PostgreSQL: several pools', () => {
  test('ok/of two pools, one account claims a value and one use wins; the schema is migration 4', async () => {
    await db.reset();
    const a = await openPostgresAcmeClientIdStore({ url: db.url, pool: { max: 4 } });
    const b = await openPostgresAcmeClientIdStore({ url: db.url, pool: { max: 4 } });
    try {
      await a.putClientId(clientId('shared'));
      const now = new Date('2026-12-01T10:00:01Z');
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).claimClientId('shared', `acct-${String(i)}`, now),
        ),
      );
      const winner = claims.find((c) => c !== undefined);
      expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
      const uses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).useClientId('shared', winner?.accountId ?? '', now),
        ),
      );
      expect(uses.filter(Boolean)).toHaveLength(1);
      const versions = await db.query<{ version: number }>(
        'SELECT version FROM orchard_schema_migrations ORDER BY version',
      );
      expect(versions.map((v) => v.version)).toContain(4);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
