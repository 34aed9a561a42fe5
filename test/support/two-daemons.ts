/**
 * Two real daemons (`node bin/orchard serve`, child processes) on one PostgreSQL test database,
 * each with its own data directory, sharing one secrets key file, one API key and one push
 * certificate (APNs unreachable: devices here poll by themselves). The first makes the CA and the
 * signing identity; the second gets them from the database. A balancer (`fetch` for simulated
 * devices) sends every request to the next daemon that is up, round-robin, and keeps a journal
 * of what devices acknowledged and what the daemons delivered.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSecretsKeyring, encodeSecretsKeyFile, generateSecretsKey } from '../../src/index.js';
import { decodePlist } from '../../src/protocol/plist.js';
import { isDict } from '../../src/protocol/checkin.js';
import { pushCertificateArgs } from '../daemon/scep-enroll.js';
import { spawnDaemon, type TestDaemon } from './daemon.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

/** What the balancer saw of device reports, by `commandUuid enrollmentId`. */
export interface Journal {
  /** Acknowledged reports the daemon answered 200 (stored), per command and device. */
  acknowledged: Map<string, number>;
  /** Commands and devices of acknowledged reports that got no answer or one other than 200. */
  unansweredKeys: Set<string>;
  /** Commands a daemon delivered after the device's acknowledgement of them was answered 200. */
  deliveredAfterAck: string[];
  /** Device requests (MDM and check-in) answered 401: never allowed. */
  unauthorized: number;
  /** Requests per daemon name. */
  requests: Record<string, number>;
  /** Requests per daemon name that got no answer at all (connection refused or reset). */
  unreachable: Record<string, number>;
}

/** A fetch in front of the daemons that also records what devices and daemons did. */
export interface Balancer {
  /** Round-robin over the daemons that are up. */
  fetch: typeof fetch;
  /** A fetch that sends everything to `name` only (as a sticky load balancer would). */
  only(name: string): typeof fetch;
  /** Takes a daemon out of (or back into) the rotation. */
  setUp(name: string, up: boolean): void;
  journal: Journal;
}

/** Two daemons on one database, with their balancer. */
export interface TwoDaemons {
  db: TestDatabase;
  a: TestDaemon;
  b: TestDaemon;
  apiKey: string;
  /** The shared secrets key file. */
  secretsKeyFile: string;
  balancer: Balancer;
  close(): Promise<void>;
}

function urlOf(input: string | URL | Request): URL {
  return new URL(input instanceof Request ? input.url : input.toString());
}

function bodyBytes(init: RequestInit | undefined): Uint8Array | undefined {
  const body = init?.body;
  return body instanceof Uint8Array ? body : undefined;
}

function messageOf(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    const value = decodePlist(bytes);
    return isDict(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function deviceOf(message: Record<string, unknown>): string {
  const id = message.UDID ?? message.EnrollmentID;
  return typeof id === 'string' ? id : '?';
}

/** Records one device exchange on `/mdm` in the journal. */
async function record(
  journal: Journal,
  request: Record<string, unknown> | undefined,
  res: Response | undefined,
): Promise<void> {
  if (res?.status === 401) journal.unauthorized += 1;
  if (request === undefined) return;
  const device = deviceOf(request);
  if (request.Status === 'Acknowledged') {
    const key = `${String(request.CommandUUID)} ${device}`;
    if (res?.status === 200)
      journal.acknowledged.set(key, (journal.acknowledged.get(key) ?? 0) + 1);
    else journal.unansweredKeys.add(key);
  }
  if (res?.status !== 200) return;
  const answer = messageOf(new Uint8Array(await res.clone().arrayBuffer()));
  const delivered = answer?.CommandUUID;
  if (typeof delivered === 'string' && journal.acknowledged.has(`${delivered} ${device}`))
    journal.deliveredAfterAck.push(`${delivered} ${device}`);
}

/** A balancer over `daemons` by name. */
export function createBalancer(daemons: Record<string, TestDaemon>): Balancer {
  const names = Object.keys(daemons);
  const up = new Set(names);
  const journal: Journal = {
    acknowledged: new Map(),
    unansweredKeys: new Set(),
    deliveredAfterAck: [],
    unauthorized: 0,
    requests: Object.fromEntries(names.map((n) => [n, 0])),
    unreachable: Object.fromEntries(names.map((n) => [n, 0])),
  };
  let next = 0;
  const ours = (url: URL) =>
    names.some((n) => new URL(daemons[n]!.url).host === url.host) ? url : undefined;

  const via =
    (pick: () => string): typeof fetch =>
    async (input, init) => {
      const url = urlOf(input);
      if (ours(url) === undefined || input instanceof Request) return fetch(input, init);
      const name = pick();
      const target = new URL(url.pathname + url.search, daemons[name]!.url);
      journal.requests[name] = (journal.requests[name] ?? 0) + 1;
      const isMdm = url.pathname === '/mdm' || url.pathname === '/mdm/checkin';
      const request = url.pathname === '/mdm' ? messageOf(bodyBytes(init)) : undefined;
      let res: Response | undefined;
      try {
        res = await fetch(target, init);
        return res;
      } catch (error) {
        journal.unreachable[name] = (journal.unreachable[name] ?? 0) + 1;
        throw error;
      } finally {
        if (isMdm) await record(journal, request, res);
      }
    };

  return {
    fetch: via(() => {
      const live = names.filter((n) => up.has(n));
      if (live.length === 0) throw new Error('balancer: no daemon is up');
      next += 1;
      return live[next % live.length]!;
    }),
    only: (name) => via(() => name),
    setUp(name, isUp) {
      if (isUp) up.add(name);
      else up.delete(name);
    },
    journal,
  };
}

/** Writes a new secrets key file (one key) into `dir`; its path. */
export function writeSecretsKeyFile(dir: string): string {
  const path = join(dir, 'secrets.key');
  writeFileSync(path, encodeSecretsKeyFile(createSecretsKeyring([generateSecretsKey(1)])), {
    mode: 0o600,
  });
  return path;
}

/**
 * Creates a test database and starts daemon `a` on it, then `b` (which downloads the CA and the
 * signing identity `a` uploaded). `extraArgs` go to both.
 */
export async function startTwoDaemons(
  label: string,
  extraArgs: string[] = [],
): Promise<TwoDaemons> {
  const db = await createTestDatabase(label);
  const shared = mkdtempSync(join(tmpdir(), 'orchard-two-'));
  const secretsKeyFile = writeSecretsKeyFile(shared);
  const apiKey = `test_${randomBytes(32).toString('base64url')}`;
  const topic = `com.apple.mgmt.External.${randomBytes(16).toString('hex')}`;
  const args = [
    ...['--database', db.url, '--secrets-key-file', secretsKeyFile],
    ...(await pushCertificateArgs(topic)),
    ...['--rate-limit', 'off'],
    ...extraArgs,
  ];
  const started: TestDaemon[] = [];
  try {
    started.push(await spawnDaemon({ args, apiKey }));
    started.push(await spawnDaemon({ args, apiKey }));
  } catch (error) {
    await Promise.all(started.map((d) => d.cleanup()));
    await db.drop();
    throw error;
  }
  const [a, b] = started as [TestDaemon, TestDaemon];
  return {
    db,
    a,
    b,
    apiKey,
    secretsKeyFile,
    balancer: createBalancer({ a, b }),
    async close() {
      await Promise.all([a.cleanup(), b.cleanup()]);
      rmSync(shared, { recursive: true, force: true });
      await db.drop();
    },
  };
}
