/**
 * The end-to-end suite (`suite.ts`) on the PostgreSQL adapter, in a database of this file's own
 * (`test/support/postgres.ts`), dropped at the end.
 */
import { afterAll } from '@jest/globals';
import { createPostgresStorage } from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runE2eSuite } from './suite.js';

let db: TestDatabase | undefined;

runE2eSuite('postgres', async () => {
  db = await createTestDatabase('e2e');
  return createPostgresStorage({ url: db.url });
});

afterAll(async () => {
  await db?.drop();
});
