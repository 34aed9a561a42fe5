/** The admin storage conformance suite, run against the memory and SQLite adapters. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';
import { runAdminConformance } from './conformance-admin.js';
import { runManagementConformance } from './conformance-management.js';
import { runPolicyConformance } from './conformance-policies.js';
import { runUserConformance } from './conformance-users.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-admin-'));
let n = 0;

runAdminConformance('memory', ({ clock }) => createMemoryAdminStorage({ clock }));
runManagementConformance('memory', ({ clock }) => createMemoryAdminStorage({ clock }));
runUserConformance('memory', ({ clock }) => createMemoryAdminStorage({ clock }));
runPolicyConformance('memory', ({ clock }) => createMemoryAdminStorage({ clock }));

const sqlite = ({ clock }: { clock: () => Date }) => {
  n += 1;
  return openSqliteAdminStore({ path: join(dir, `admin-${String(n)}.db`), clock });
};
runAdminConformance('sqlite', sqlite);
runManagementConformance('sqlite', sqlite);
runUserConformance('sqlite', sqlite);
runPolicyConformance('sqlite', sqlite);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
