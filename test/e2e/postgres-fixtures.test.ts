/**
 * The device message captures of fixtures/messages, each sent as it is (the XML and the binary
 * plist) through a real daemon (in this process) on SQLite and one on PostgreSQL, signed
 * (`Mdm-Signature`) as its device: every device the captures name gets a certificate from the
 * daemon's CA over SCEP, and the commands the reports answer are queued under their captured
 * CommandUUID first. Both engines answer every capture with the same status and body and end
 * with the same enrollments and stored command results; XML and binary captures agree too.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, test } from '@jest/globals';
import { silentLogger } from '../../src/index.js';
import { encodeCommand } from '../../src/protocol/command.js';
import { decodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { mdmSignature } from '../../src/sim/index.js';
import { CHECKIN_CONTENT_TYPE, REPORT_CONTENT_TYPE } from '../../src/sim/transport.js';
import { resolveConfig } from '../../src/daemon/config.js';
import { openDaemonDatabase } from '../../src/daemon/database.js';
import { startHarness, type Harness } from '../daemon/harness.js';
import { createApnsTestPki, issuePushCertificate } from '../push/pki.js';
import { scepEnroller } from '../daemon/scep-enroll.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

interface Capture {
  name: string;
  kind: 'checkin' | 'report';
  type: string;
}

const DIR = new URL('../../fixtures/messages/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Capture[];

const stage = (c: Capture): number =>
  c.type === 'Authenticate'
    ? 0
    : c.type === 'TokenUpdate'
      ? 1
      : c.type === 'CheckOut'
        ? 4
        : c.kind === 'checkin'
          ? 2
          : 3;
/** Enrollment first, check-out last (it ends the iPhone's enrollment), manifest order otherwise. */
const ORDER = [...manifest].sort((x, y) => stage(x) - stage(y));

/** The XML form of a capture, for its identity keys and command. */
const xmlOf = (c: Capture) => decodePlist(readFileSync(join(DIR, `${c.name}.plist`))) as PlistDict;
/** A string field of a capture ('' when absent). */
const field = (m: PlistDict, key: string): string => {
  const value = m[key];
  return typeof value === 'string' ? value : '';
};
const deviceOf = (m: PlistDict) => field(m, 'UDID') || field(m, 'EnrollmentID');

/** What one replay saw and left behind, with times and random ids left out. */
interface Outcome {
  answers: { name: string; status: number; body: string }[];
  enrollments: unknown;
  commands: unknown;
}

const VOLATILE = /(At|Seen|Time|Date)$|^(lastPush|apnsId)$/;

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !VOLATILE.test(k))
      .map(([k, v]) => [k, stable(v)]),
  );
}

/** Queues each report's command under its captured uuid, straight into the daemon's database. */
async function queueReportedCommands(h: Harness, database: string | undefined): Promise<void> {
  const config = resolveConfig(
    { dataDir: h.dataDir, ...(database === undefined ? {} : { database }) },
    {},
  );
  const db = await openDaemonDatabase(config, { clock: () => new Date() }, silentLogger);
  try {
    for (const c of manifest.filter((m) => m.kind === 'report' && m.type !== 'Idle')) {
      const m = xmlOf(c);
      const uuid = field(m, 'CommandUUID');
      await db.storage.enqueue(
        { uuid, requestType: c.type, body: encodeCommand(uuid, { RequestType: c.type }) },
        [deviceOf(m)],
      );
    }
  } finally {
    await db.close();
  }
}

/** The push certificate of the captures' topic (their TokenUpdates name it), as serve flags. */
async function pushFlags(dir: string): Promise<Record<string, string>> {
  const topic = manifest.map((c) => xmlOf(c).Topic).find((t) => typeof t === 'string');
  const push = await issuePushCertificate(await createApnsTestPki(), { topic: String(topic) });
  writeFileSync(join(dir, 'push.pem'), push.certPem);
  writeFileSync(join(dir, 'push.key'), push.keyPem);
  return { pushCert: join(dir, 'push.pem'), pushKey: join(dir, 'push.key') };
}

/** Replays every capture in `format` against a new daemon on `database` (SQLite by default). */
async function replay(format: 'plist' | 'bplist', database?: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-captures-'));
  const h = await startHarness({
    ...(await pushFlags(dir)),
    ...(database === undefined ? {} : { database }),
  });
  try {
    const scep = await scepEnroller(h);
    const identities = new Map<string, { certificate: X509Certificate; privateKey: KeyObject }>();
    for (const id of new Set(manifest.map((c) => deviceOf(xmlOf(c)))))
      identities.set(id, await scep.certificateFor(await scep.challengeFromLink()));
    const answers: Outcome['answers'] = [];
    for (const c of ORDER) {
      if (c.kind === 'report' && answers.every((a) => !a.name.startsWith('report-')))
        await queueReportedCommands(h, database);
      const bytes = readFileSync(join(DIR, `${c.name}.${format}`));
      const identity = identities.get(deviceOf(xmlOf(c)))!;
      const res = await fetch(`${h.daemon.url}${c.kind === 'checkin' ? '/mdm/checkin' : '/mdm'}`, {
        method: 'PUT',
        headers: {
          'content-type': c.kind === 'checkin' ? CHECKIN_CONTENT_TYPE : REPORT_CONTENT_TYPE,
          'mdm-signature': mdmSignature(bytes, identity),
        },
        body: bytes,
      });
      const body = Buffer.from(await res.arrayBuffer()).toString('base64');
      answers.push({ name: c.name, status: res.status, body });
    }
    const enrollments = await h.api('GET', '/api/v1/enrollments?limit=100');
    expect(enrollments.status).toBe(200);
    const commands = [];
    for (const c of manifest.filter((m) => m.kind === 'report' && m.type !== 'Idle')) {
      const uuid = field(xmlOf(c), 'CommandUUID');
      const one = await h.api('GET', `/api/v1/commands/${uuid}`);
      expect(one.status).toBe(200);
      commands.push(one.body);
    }
    return {
      answers,
      enrollments: stable(enrollments.body),
      commands: stable(commands),
    };
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The captures a daemon refuses, the same on both engines: user channels of devices the captures
 * never enroll (400: no certificate bound), GetToken without a token service (404), and a report
 * from the Mac whose device channel never sent a TokenUpdate (400: not enrolled).
 */
const REFUSED: Record<string, number> = {
  'checkin-tokenupdate-macos-user-enrollment-user': 400,
  'checkin-tokenupdate-shared-ipad-user': 400,
  'checkin-gettoken': 404,
  'report-commandformaterror': 400,
};

/** A target's status after the whole replay: CheckOut cancels what was still pending. */
const finalStatus = (reported: string) => (reported === 'NotNow' ? 'canceled' : reported);

const databases: TestDatabase[] = [];
const outcomes = new Map<string, Outcome>();

afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

describe('device captures on SQLite and PostgreSQL daemons', () => {
  test.each(['plist', 'bplist'] as const)(
    'ok/every %s capture gets the same answer and leaves the same records on both engines',
    async (format) => {
      const db = await createTestDatabase(`captures_${format}`);
      databases.push(db);
      const sqlite = await replay(format);
      const postgres = await replay(format, db.url);
      // The second daemon did keep its records in PostgreSQL.
      const [stored] = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM command_targets WHERE result IS NOT NULL',
      );
      expect(stored?.n).toBeGreaterThan(0);
      expect(postgres.answers).toEqual(sqlite.answers);
      expect(postgres.enrollments).toEqual(sqlite.enrollments);
      expect(postgres.commands).toEqual(sqlite.commands);
      const statuses = Object.fromEntries(sqlite.answers.map((a) => [a.name, a.status]));
      expect(statuses).toEqual(
        Object.fromEntries(manifest.map((c) => [c.name, REFUSED[c.name] ?? 200])),
      );
      // Each report's command is stored with the device's status (the Mac's report was refused;
      // the iPhone's check-out, sent last, cancels the command it had answered NotNow).
      const targets = (sqlite.commands as { targets: { status: string }[] }[]).map(
        (c) => c.targets[0]?.status,
      );
      expect(targets).toEqual(
        manifest
          .filter((c) => c.kind === 'report' && c.type !== 'Idle')
          .map((c) => (c.name in REFUSED ? 'queued' : finalStatus(field(xmlOf(c), 'Status')))),
      );
      outcomes.set(format, postgres);
    },
    120_000,
  );

  test('ok/binary and XML captures are answered and stored alike', () => {
    const [xml, binary] = [outcomes.get('plist'), outcomes.get('bplist')];
    expect(xml).toBeDefined();
    expect(binary).toEqual(xml);
  });
});
