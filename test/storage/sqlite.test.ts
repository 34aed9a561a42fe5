import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { createSqliteStorage } from '../../src/storage/sqlite/index.js';
import { runStorageConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-sqlite-'));
let n = 0;

runStorageConformance('sqlite', ({ clock }) => {
  n += 1;
  return createSqliteStorage({ path: join(dir, `store-${n}.db`), clock });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
