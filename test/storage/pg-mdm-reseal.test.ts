/**
 * Every sealed column of every area of the PostgreSQL database: sealed in place once when a key
 * arrives for a database used without one, and re-sealed together by a rotation (one
 * transaction), each value then opening through its own store on another pool.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import {
  addSecretsKey,
  createSecretsKeyring,
  sealerFor,
  type SecretsKeyring,
} from '../../src/index.js';
import {
  openPostgresDatabase,
  sharedFiles,
  type PostgresDatabase,
} from '../../src/storage/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
const KEY = createSecretsKeyring([{ id: 1, key: new Uint8Array(32).fill(5) }]);
const AT = new Date('2026-12-07T04:00:00Z');
const SECRET = 'PLAINTEXT-SECRET';

beforeAll(async () => {
  db = await createTestDatabase('mdm_reseal');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  await db.reset();
});

const open = (secrets?: SecretsKeyring): Promise<PostgresDatabase> =>
  openPostgresDatabase({
    url: db.url,
    pool: { max: 3 },
    lastSeenFlushMs: 0,
    ...(secrets === undefined ? {} : { secrets }),
  });

/** The sealed columns of every area: table, column. */
const SEALED: readonly (readonly [string, string])[] = [
  ['enrollments', 'unlock_token'],
  ['commands', 'body'],
  ['command_targets', 'result'],
  ['outbox', 'payload'],
  ['orchard_library_profile_versions', 'content'],
  ['orchard_admin_enrollment_tokens', 'secret'],
  ['orchard_policy_assignments', 'removal_password'],
];

/** Stores one value of each kind the stores seal themselves; the link's id. */
async function seed(d: PostgresDatabase): Promise<string> {
  const { storage, admin } = d;
  await storage.storeTokenUpdate({
    ...{ id: 'A', type: 'device', deviceId: 'A', unlockToken: Buffer.from(`${SECRET}-unlock`) },
    push: { token: 'ab', pushMagic: 'm', topic: 't' },
  });
  await storage.enqueue({ uuid: 'c1', requestType: 'X', body: Buffer.from(`${SECRET}-body`) }, [
    'A',
  ]);
  await storage.nextCommand('A', { skipNotNow: false, now: AT });
  await storage.storeResult('A', {
    ...{ uuid: 'c1', status: 'Acknowledged' },
    result: Buffer.from(`${SECRET}-result`),
  });
  await storage.enqueueEvent({ id: 'ev1', type: 't', payload: `${SECRET}-event`, createdAt: AT });
  await admin.createLibraryProfile(
    {
      ...{ id: 'prf_x', groupId: 'global', identifier: 'com.example.x', name: 'x' },
      ...{ assignmentType: 'auto', latestVersion: 1, createdAt: AT, updatedAt: AT },
    },
    {
      ...{ profileId: 'prf_x', version: 1, payloadUuid: 'U', sha256: 'ab' },
      ...{ content: Buffer.from(`${SECRET}-profile`), createdBy: 'owner', createdAt: AT },
    },
  );
  await admin.createPolicy({
    id: 'pol_a',
    name: 'a',
    groupId: 'global',
    createdAt: AT,
    updatedAt: AT,
  });
  await admin.putAssignment({
    ...{ policyId: 'pol_a', profileId: 'prf_x', assignmentType: 'auto' },
    ...{ removal: 'with-authorization', removalPassword: `${SECRET}-removal` },
    ...{ createdAt: AT, updatedAt: AT },
  });
  const link = await admin.createEnrollmentToken({
    ...{ hash: 'hg', singleUse: false, kind: 'generic', groupId: 'global' },
    secret: `${SECRET}-link`,
  });
  return link.id;
}

/** The key id of every stored value of every sealed column (`undefined`: not sealed). */
async function keyIds(keyring: SecretsKeyring): Promise<Record<string, (number | undefined)[]>> {
  const out: Record<string, (number | undefined)[]> = {};
  for (const [table, column] of SEALED) {
    const rows = await db.query<{ v: Buffer }>(
      `SELECT ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL`,
    );
    out[table] = rows.map((r) => {
      expect(r.v.includes(SECRET)).toBe(keyring.keyIdOf(r.v) === undefined);
      return keyring.keyIdOf(r.v);
    });
  }
  return out;
}

const every = (id: number | undefined) =>
  Object.fromEntries(SEALED.map(([table]) => [table, [id]]));

/** Reads each value back through its store. */
async function readBack(d: PostgresDatabase, link: string): Promise<string[]> {
  const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString();
  const command = await d.storage.findCommand('c1');
  const version = await d.admin.findProfileVersion('prf_x', 1);
  const [assignment] = await d.admin.listAssignments('pol_a');
  return [
    text(await d.storage.findUnlockToken('A')),
    text(command?.body),
    text(command?.targets[0]?.result),
    (await d.storage.findOutboxEntry('ev1'))?.payload ?? '',
    text(version?.content),
    assignment?.removalPassword ?? '',
    (await d.admin.findEnrollmentTokenSecret(link)) ?? '',
  ];
}

const PLAIN = ['unlock', 'body', 'result', 'event', 'profile', 'removal', 'link'].map(
  (s) => `${SECRET}-${s}`,
);

describe('postgres sealed columns of every area', () => {
  test('ok/plain values of every kind are sealed in place, once, on the first open with a key', async () => {
    const plain = await open();
    const link = await seed(plain);
    await plain.close();
    expect(await keyIds(KEY)).toEqual(every(undefined));
    const keyed = await open(KEY);
    expect(await keyIds(KEY)).toEqual(every(1));
    expect(await readBack(keyed, link)).toEqual(PLAIN);
    await keyed.close();
    const again = await open(KEY);
    expect(await readBack(again, link)).toEqual(PLAIN);
    await again.close();
  });

  test('ok/a rotation re-seals every sealed column of every area, shared files included', async () => {
    const first = await open(KEY);
    const link = await seed(first);
    const bootstrap = sealerFor(KEY, 'bootstrap-token').seal('A', Buffer.from('bootstrap'));
    await first.storage.storeBootstrapToken('A', bootstrap);
    await sharedFiles(first, KEY).putIfAbsent(
      [{ name: 'ca/ca.key', content: Buffer.from('k') }],
      AT,
    );
    await first.close();
    expect(await keyIds(KEY)).toEqual(every(1));

    const next = addSecretsKey(KEY);
    const rotating = await open(next);
    expect(await rotating.storage.resealSecrets()).toEqual({
      ...{ unlockTokens: 1, bootstrapTokens: 1, commands: 1, commandResults: 1 },
      ...{ webhookEvents: 1, libraryProfiles: 1, enrollmentLinks: 1, removalPasswords: 1 },
    });
    await rotating.close();
    expect(await keyIds(next)).toEqual(every(2));
    const files = await db.query<{ v: Buffer }>('SELECT content AS v FROM orchard_shared_files');
    expect(files.map((f) => next.keyIdOf(f.v))).toEqual([2]);

    const other = await open(next);
    expect(await readBack(other, link)).toEqual(PLAIN);
    const escrowed = (await other.storage.findBootstrapToken('A')) ?? new Uint8Array();
    expect(Buffer.from(sealerFor(next, 'bootstrap-token').open('A', escrowed)).toString()).toBe(
      'bootstrap',
    );
    expect(
      (await sharedFiles(other, next).list()).map((f) => Buffer.from(f.content).toString()),
    ).toEqual(['k']);
    await other.close();
  });
});
