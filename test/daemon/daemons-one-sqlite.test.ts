/**
 * Two `orchard serve` daemons (not workers) on one SQLite file share its coordination: the
 * singleton identity-renewal job (run at start when a push certificate is configured) runs only
 * where its lease is free. A third process (this test) holds the lease as a daemon running the
 * job would: a daemon starting meanwhile skips the job, one starting after the release runs it.
 * Their rate limits are one: failed admin logins on A and on B lock the address out on both.
 */
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { newTopic } from '../push/pki.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import { openSqliteCoordination } from '../../src/storage/sqlite/coordination.js';
import { pushCertificateArgs } from './scep-enroll.js';

let a: TestDaemon;
let b: TestDaemon | undefined;
let args: string[];

const TAKEN = '"msg":"job lease taken"';
const SKIPPED = '"msg":"job held by another process; skipped"';

function jobLines(d: TestDaemon, msg: string): string[] {
  return d.stdout.filter((l) => l.includes(msg) && l.includes('"job":"identity-renewal"'));
}

/** One request on a connection of its own. */
function status(d: TestDaemon, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${d.url}${path}`, { agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  args = [
    ...(await pushCertificateArgs(newTopic())),
    ...['--log-level', 'debug', '--rate-limit', '4/min'],
  ];
  a = await spawnDaemon({ args });
}, 120_000);

afterAll(async () => {
  await b?.cleanup();
  await a.cleanup();
});

describe('two daemons on one SQLite file', () => {
  test('ok/the identity-renewal job runs only where its lease is free', async () => {
    // A ran the job at start, under the lease (free then).
    await a.waitForLine(TAKEN);
    expect(jobLines(a, TAKEN)).toHaveLength(1);
    const holder = openSqliteCoordination({ path: join(a.dataDir, 'orchard.db') });
    let release!: () => void;
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const held = holder.exclusive(
      'identity-renewal',
      () =>
        new Promise<void>((resolve) => {
          inside();
          release = resolve;
        }),
    );
    await entered;
    try {
      // B on the same data directory and file, started while the job is held: it skips.
      b = await spawnDaemon({ args, dataDir: a.dataDir });
      await b.waitForLine(SKIPPED);
      expect(jobLines(b, TAKEN)).toHaveLength(0);
    } finally {
      release();
      expect(await held).toEqual({ value: undefined });
      await holder.close();
    }
    // Released: B started again runs it.
    await b.kill('SIGTERM');
    await b.restart();
    await b.waitForLine(TAKEN);
    expect(jobLines(b, TAKEN)).toHaveLength(1);
  }, 120_000);

  test('fail/failed admin logins on either daemon count together', async () => {
    const daemonB = b;
    if (daemonB === undefined) throw new Error('B did not start');
    const wrong = { authorization: 'Bearer wrong-key' };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(await status(i % 2 === 0 ? a : daemonB, '/api/v1/enrollments', wrong));
    expect(statuses).toEqual([403, 403, 403, 403, 429, 429]);
  });
});
