/** The ACME storage conformance suite, run against the memory and SQLite adapters. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { createMemoryAcmeStore } from '../../src/storage/memory/acme.js';
import { openSqliteAcmeStore } from '../../src/storage/sqlite/acme.js';
import { runAcmeConformance } from './conformance-acme.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-acme-'));
let n = 0;

runAcmeConformance('memory', createMemoryAcmeStore);

runAcmeConformance('sqlite', () => {
  n += 1;
  return openSqliteAcmeStore({ path: join(dir, `acme-${String(n)}.db`) });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
