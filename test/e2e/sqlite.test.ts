import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStorage } from '../../src/storage/sqlite/index.js';
import { runE2eSuite } from './suite.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-e2e-'));
runE2eSuite('sqlite', () => createSqliteStorage({ path: join(dir, 'mdm.sqlite') }));
