/** The CA storage conformance suite, run against the memory and SQLite adapters. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { createMemoryCaStorage } from '../../src/storage/memory/index.js';
import { openSqliteCaStorage } from '../../src/storage/sqlite/index.js';
import { runCaConformance } from './conformance-ca.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-ca-'));
let n = 0;

runCaConformance('memory', createMemoryCaStorage);

runCaConformance('sqlite', () => {
  n += 1;
  return openSqliteCaStorage({ path: join(dir, `ca-${String(n)}.db`) });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
