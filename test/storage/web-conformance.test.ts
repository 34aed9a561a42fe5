/** The web stores' conformance suite against memory and SQLite, and SQLite's race across connections. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from '@jest/globals';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import { openSqliteAdminStore } from '../../src/storage/sqlite/index.js';
import { runWebConformance } from './conformance-web.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-web-'));
let n = 0;

runWebConformance('memory', ({ clock }) => createMemoryAdminStorage({ clock }));
runWebConformance('sqlite', ({ clock }) => {
  n += 1;
  return openSqliteAdminStore({ path: join(dir, `web-${String(n)}.db`), clock });
});

test('ok/sqlite: two connections racing for one setup token, exactly one wins', async () => {
  const path = join(dir, 'race.db');
  const a = openSqliteAdminStore({ path });
  const b = openSqliteAdminStore({ path });
  const now = new Date();
  try {
    for (let i = 0; i < 10; i++) {
      await a.createSetupToken({
        hash: `t${String(i)}`,
        subject: 'user',
        subjectId: 'usr_1',
        createdAt: now,
        expiresAt: new Date(now.getTime() + 60_000),
      });
    }
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => [
        a.consumeSetupToken(`t${String(i)}`, now),
        b.consumeSetupToken(`t${String(i)}`, now),
      ]).flat(),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(10);
  } finally {
    a.close();
    b.close();
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
