/**
 * Every statement area C's stores issue is answered through an index: each store method runs
 * once on a pool that records statements and their values, then each distinct statement is
 * EXPLAINed with those values and sequential scans priced out (`enable_seqscan = off`, so a Seq
 * Scan in the plan means no index fits). Only the listings meant to read a whole small table
 * (the API keys) are allowed to scan.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type pg from 'pg';
import { challengeDigest } from '../../src/identity/scep/challenge.js';
import { pgApiKeys, pgAuditLog, pgSettings } from '../../src/storage/postgres/admin-keys.js';
import { pgEnrollmentLinks } from '../../src/storage/postgres/admin-tokens.js';
import { pgCertificateStore, pgChallengeStore } from '../../src/storage/postgres/ca.js';
import {
  openPostgresConnection,
  type PgConnection,
} from '../../src/storage/postgres/connection.js';
import type { PgContext } from '../../src/storage/postgres/db.js';
import { pgCredentials, pgWebSessions } from '../../src/storage/postgres/web.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

interface Seen {
  text: string;
  values: unknown[];
}

let db: TestDatabase;
let connection: PgConnection;
const seen = new Map<string, Seen>();

/** `target` whose `query` records each statement (first values per text) and whose clients do too. */
function recording<T extends object>(target: T): T {
  return new Proxy(target, {
    get(t, key) {
      const value = Reflect.get(t, key, t) as unknown;
      if (key === 'query')
        return (config: Seen) => {
          if (typeof config === 'object' && !seen.has(config.text)) seen.set(config.text, config);
          return (value as (c: Seen) => unknown).call(t, config);
        };
      if (key === 'connect')
        return async () => recording(await (value as () => Promise<object>).call(t));
      return typeof value === 'function' ? (value as () => unknown).bind(t) : value;
    },
  });
}

/** Seconds are enough: the plan, not the data, is under test. */
const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

async function workload(ctx: PgContext): Promise<void> {
  const certs = pgCertificateStore(ctx);
  const challenges = pgChallengeStore(ctx);
  const der = Buffer.from('01', 'hex');
  const cert = { serial: '1', subject: 'CN=1', notBefore: at(0), notAfter: at(9), issuedAt: at(0) };
  await certs.recordIssued({ ...cert, der, enrollmentId: 'e' });
  await certs.findIssued('1');
  await certs.revoke('1', at(1), 'superseded');
  await certs.listIssued({ after: '1', limit: 5 });
  await certs.listIssued({ enrollmentId: 'e', after: '0', limit: 5 });
  await certs.listIssued({ enrollmentId: 'e' });
  await certs.listIssued();
  await certs.countIssued();
  await challenges.put({ digest: challengeDigest('c'), expiresAt: at(9) });
  await challenges.consume(challengeDigest('c'), at(1));
  await challenges.purgeExpired(at(1));

  const keys = pgApiKeys(ctx);
  const audit = pgAuditLog(ctx);
  const settings = pgSettings(ctx);
  const key = await keys.createApiKey({ name: 'k', scope: 'read', hash: 'kh' });
  await keys.findApiKeyByHash('kh');
  await keys.revokeApiKey(key.id);
  await keys.listApiKeys();
  await keys.listActiveApiKeys();
  await keys.countActiveApiKeys();
  await audit.audit({ actor: 'a', action: 'b', target: 'c', detail: {} });
  await audit.listAudit({ limit: 5, cursor: '10' });
  await settings.setMeta('k', 'v');
  await settings.getMeta('k');

  const links = pgEnrollmentLinks(ctx);
  const personal = { hash: 'p', singleUse: false, kind: 'personal' as const, userId: 'usr_a' };
  const link = await links.createEnrollmentToken({ ...personal, secret: 's' });
  await links.downloadEnrollmentToken('p', at(1));
  await links.redeemEnrollmentToken(link.id, at(1));
  await links.listEnrollmentTokens({ limit: 5, cursor: 'et_0' });
  await links.findEnrollmentToken(link.id);
  await links.findEnrollmentTokenByHash('p');
  await links.findEnrollmentTokenSecret(link.id);
  await links.findPersonalEnrollmentToken('usr_a');
  await links.markEnrollmentTokenSent(link.id, at(2), at(9));
  await links.rotateEnrollmentToken(link.id, { ...personal, hash: 'p2' }, at(3));
  await links.revokeEnrollmentToken(link.id);

  const sessions = pgWebSessions(ctx);
  const credentials = pgCredentials(ctx);
  const session = { idHash: 's', kind: 'portal' as const, subjectId: 'u', createdAt: at(0) };
  await sessions.createWebSession({ ...session, expiresAt: at(9), lastSeenAt: at(0) });
  await sessions.findWebSession('s');
  await sessions.touchWebSession('s', at(1), at(9));
  await sessions.deleteWebSession('s');
  await sessions.deleteWebSessionsOf('portal', 'u');
  await sessions.purgeWebSessions(at(1));
  const subject = { subject: 'user' as const, subjectId: 'u' };
  await credentials.setPassword({ ...subject, hash: 'h', updatedAt: at(0) });
  await credentials.findPassword('user', 'u');
  await credentials.deletePassword('user', 'u');
  const token = { hash: 't', ...subject, createdAt: at(0), expiresAt: at(9) };
  await credentials.createSetupToken(token);
  await credentials.consumeSetupToken('t', at(1));
}

/** Statements meant to read all of a small table (the API keys: a handful per administrator). */
const WHOLE_TABLE = [
  /FROM orchard_admin_api_keys ORDER BY/,
  /FROM orchard_admin_api_keys WHERE revoked_at IS NULL$/,
];

beforeAll(async () => {
  db = await createTestDatabase('admin_plans');
  connection = await openPostgresConnection({ url: db.url });
});

afterAll(async () => {
  await connection.pool.end();
  await db.drop();
});

test('ok/every statement of the CA, admin and web stores uses an index', async () => {
  const ctx: PgContext = { pool: recording(connection.pool), clock: () => at(0), closed: false };
  await workload(ctx);
  const client: pg.PoolClient = await connection.pool.connect();
  const scans: string[] = [];
  try {
    await client.query('SET enable_seqscan = off');
    for (const { text, values } of seen.values()) {
      if (!/orchard_(ca|admin|web|password)/.test(text)) continue;
      if (WHOLE_TABLE.some((re) => re.test(text.replace(/\s+/g, ' ').trim()))) continue;
      const plan = await client.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
      if (JSON.stringify(plan.rows).includes('Seq Scan')) scans.push(text);
    }
  } finally {
    await client.query('RESET enable_seqscan');
    client.release();
  }
  expect(seen.size).toBeGreaterThanOrEqual(42);
  expect(scans).toEqual([]);
});
