/**
 * Crash safety: the daemon is SIGKILLed at a random moment while clients queue commands; after a
 * restart every command that was acknowledged (201) is readable with its audit entry, and the
 * database passes SQLite's integrity check. Two rounds on the same data dir.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { makeLeaf } from '../support/pki.js';

let d: TestDaemon;
let enrollmentId: string;

beforeAll(async () => {
  d = await spawnDaemon();
  const ca = {
    certificate: new X509Certificate(readFileSync(join(d.dataDir, 'ca', 'ca.pem'))),
    privateKey: createPrivateKey(readFileSync(join(d.dataDir, 'ca', 'ca.key'))),
    certPem: '',
    keyPem: '',
  };
  const leaf = await makeLeaf(ca, { subject: 'CN=crash-device', keyType: 'ec-p256' });
  const device = new DeviceEmulator({
    baseUrl: d.url,
    topic: 'com.apple.mgmt.External.crash',
    identity: { certificate: leaf.certificate, privateKey: leaf.privateKey },
  });
  await device.enroll();
  enrollmentId = device.enrollmentId;
}, 90_000);

afterAll(async () => {
  await d.cleanup();
});

async function load(acked: string[], stop: { now: boolean }): Promise<void> {
  while (!stop.now) {
    try {
      const res = await d.api('POST', `/api/v1/enrollments/${enrollmentId}/commands`, {
        RequestType: 'ProfileList',
      });
      if (res.status === 201) acked.push(res.body.commandUuid as string);
    } catch {
      return; // the connection died with the process
    }
  }
}

describe('kill -9 under load', () => {
  test.each([1, 2])(
    'ok/round %d: every acknowledged command survives',
    async () => {
      const acked: string[] = [];
      const stop = { now: false };
      const clients = Array.from({ length: 4 }, () => load(acked, stop));
      await new Promise((r) => setTimeout(r, 400 + Math.floor(Math.random() * 600)));
      expect(await d.kill('SIGKILL')).toBe('SIGKILL');
      stop.now = true;
      await Promise.all(clients);
      expect(acked.length).toBeGreaterThan(5);

      const db = new Database(join(d.dataDir, 'orchard.db'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      await d.restart();
      const audit = await d.api('GET', '/api/v1/audit?limit=1000');
      const audited = new Set(
        audit.body.items.map((e: { detail: { commandUuid?: string } }) => e.detail.commandUuid),
      );
      for (const uuid of acked) {
        const res = await d.api('GET', `/api/v1/commands/${uuid}`);
        expect(res.status).toBe(200);
        expect(audited.has(uuid)).toBe(true);
      }
    },
    120_000,
  );
});
