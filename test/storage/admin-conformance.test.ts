/** The admin storage conformance suite, run against the memory and SQLite adapters. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';
import { runAdminConformance } from './conformance-admin.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-admin-'));
let n = 0;

runAdminConformance('memory', ({ clock }) => createMemoryAdminStorage({ clock }));

runAdminConformance('sqlite', ({ clock }) => {
  n += 1;
  return openSqliteAdminStore({ path: join(dir, `admin-${String(n)}.db`), clock });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
