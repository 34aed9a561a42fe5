/**
 * The owned-device conformance suite against the memory adapter (its admin store given the MDM
 * store beside it) and SQLite (both stores on one file); a memory admin store on its own has no
 * `listOwnedDevices`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from '@jest/globals';
import { createMemoryAdminStorage, createMemoryStorage } from '../../src/storage/memory/index.js';
import { openSqliteDatabase } from '../../src/storage/sqlite/index.js';
import { runOwnedDeviceConformance } from './conformance-owned-devices.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-owned-devices-'));
let n = 0;

runOwnedDeviceConformance('memory', ({ clock }) => {
  const mdm = createMemoryStorage({ clock });
  const admin = createMemoryAdminStorage({ clock, enrollments: mdm });
  return Promise.resolve({
    admin,
    mdm,
    async close() {
      admin.close();
      await mdm.close();
    },
  });
});

runOwnedDeviceConformance('sqlite', ({ clock }) => {
  n += 1;
  const db = openSqliteDatabase({ path: join(dir, `owned-${String(n)}.db`), clock });
  return Promise.resolve({ admin: db.admin, mdm: db.storage, close: () => db.close() });
});

test('ok/a memory admin store without the enrollments has no listOwnedDevices', () => {
  expect(createMemoryAdminStorage()).not.toHaveProperty('listOwnedDevices');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
