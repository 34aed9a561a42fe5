/** The admin, CA, management, users, policies and web conformance suites against PostgreSQL. */
import { afterAll, beforeAll } from '@jest/globals';
import { openPostgresAdminStore, openPostgresCaStorage } from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runAdminConformance } from './conformance-admin.js';
import { runCaConformance } from './conformance-ca.js';
import { runManagementConformance } from './conformance-management.js';
import { runPolicyConformance } from './conformance-policies.js';
import { runUserConformance } from './conformance-users.js';
import { runWebConformance } from './conformance-web.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('admin');
});

afterAll(async () => {
  await db.drop();
});

const admin = async ({ clock }: { clock: () => Date }) => {
  await db.reset();
  return openPostgresAdminStore({ url: db.url, clock, pool: { max: 4 } });
};

runCaConformance('postgres', async () => {
  await db.reset();
  return openPostgresCaStorage({ url: db.url, pool: { max: 2 } });
});
runAdminConformance('postgres', admin);
runManagementConformance('postgres', admin);
runUserConformance('postgres', admin);
runPolicyConformance('postgres', admin);
runWebConformance('postgres', admin);
