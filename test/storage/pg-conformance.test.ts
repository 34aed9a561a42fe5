/** The MDM storage conformance suite against PostgreSQL, in a database of this file's own. */
import { afterAll, beforeAll } from '@jest/globals';
import { createPostgresStorage } from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runStorageConformance } from './conformance.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('mdm');
});

afterAll(async () => {
  await db.drop();
});

runStorageConformance('postgres', async ({ clock }) => {
  await db.reset();
  return createPostgresStorage({ url: db.url, clock, pool: { max: 4 } });
});
