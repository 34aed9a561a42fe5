/** The owned-device conformance suite against PostgreSQL (admin and MDM stores on one database). */
import { afterAll, beforeAll } from '@jest/globals';
import { openPostgresDatabase } from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runOwnedDeviceConformance } from './conformance-owned-devices.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('owned_devices');
});

afterAll(async () => {
  await db.drop();
});

runOwnedDeviceConformance('postgres', async ({ clock }) => {
  await db.reset();
  const opened = await openPostgresDatabase({ url: db.url, clock, pool: { max: 4 } });
  return { admin: opened.admin, mdm: opened.storage, close: () => opened.close() };
});
