/** The ACME storage conformance suite, run against the memory and SQLite adapters. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { createMemoryAcmeStore } from '../../src/storage/memory/acme.js';
import { openSqliteAcmeStore, openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import { runAcmeConformance } from './conformance-acme.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-acme-'));
let n = 0;

runAcmeConformance('memory', createMemoryAcmeStore);

runAcmeConformance('sqlite', () => {
  n += 1;
  return openSqliteAcmeStore({ path: join(dir, `acme-${String(n)}.db`) });
});

runAcmeConformance('sqlite, the database of every store', () => {
  n += 1;
  const db = openSqliteDatabase({ path: join(dir, `all-${String(n)}.db`) });
  return { ...db.acme, close: () => db.close() };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
