/**
 * The delivery service over a real SQLite data file: a change reaching 500 devices with 3
 * profiles is 3 signatures, 3 commands and one push (records written and read back through the
 * adapter), and one device's enrollment, acknowledgements and reconciliation go round the
 * SQLite stores as they do the memory ones.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/storage/sqlite/index.js';
import { createHarness, type Harness } from './delivery-service-harness.js';

const DEVICES = 500;
const dir = mkdtempSync(join(tmpdir(), 'orchard-delivery-'));
let db: SqliteDatabase;
let h: Harness;

beforeAll(() => {
  db = openSqliteDatabase({ path: join(dir, 'orchard.db') });
  h = createHarness({}, { admin: db.admin, mdm: db.storage });
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('on SQLite', () => {
  test('ok/500 devices x 3 profiles: 3 signatures, 3 commands, 1 push; then a device round trip', async () => {
    const policy = await h.policy('fleet');
    const profiles = [];
    for (const name of ['wifi-a', 'wifi-b', 'wifi-c']) {
      const p = await h.profile(name);
      await h.assign(policy, p, 'auto');
      profiles.push(p);
    }
    for (let u = 0; u < DEVICES / 50; u++) {
      const user = await h.user(`user-${u}`);
      for (let d = 0; d < 50; d++) await h.device(`D-${u}-${String(d).padStart(2, '0')}`, user);
    }
    await h.admin.setGroupPolicy('global', policy.id);
    const report = await h.delivery.apply({
      kind: 'group-policy',
      groupId: 'global',
      policyId: policy.id,
    });
    expect(h.counts).toMatchObject({ enqueue: 3, sign: 3, push: 1 });
    expect(report).toMatchObject({ devices: DEVICES, commandsQueued: 3 });
    expect(report.totals.added).toBe(3 * DEVICES);
    const pending = await h.admin.listProfileDevices(profiles[0]?.id ?? '', {
      limit: 1000,
      states: ['pending'],
    });
    expect(pending.items).toHaveLength(DEVICES);

    // One device answers: installed from its acknowledgements, then reconciled.
    expect(await h.connect('D-0-00')).toEqual([
      'InstallProfile',
      'InstallProfile',
      'InstallProfile',
    ]);
    const view = await h.delivery.deviceProfiles('D-0-00');
    expect(view.installed).toHaveLength(3);
    h.devices.get('D-0-00')?.installed.delete(profiles[1]?.identifier ?? '');
    await h.delivery.reconcile('D-0-00');
    expect(await h.connect('D-0-00')).toEqual(['ProfileList', 'InstallProfile']);
    expect((await h.delivery.deviceProfiles('D-0-00')).installed).toHaveLength(3);
  });
});
