/**
 * Two service sets (`createOrchardServices` + `orchardRoutes`, what two daemons run) on one
 * PostgreSQL database, each behind its own HTTP listener on 127.0.0.1: the enrollment-link limit
 * and the failed admin login limit hold across both, as one daemon's would.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEdgeListener } from '../../src/http/node.js';
import { silentLogger } from '../../src/index.js';
import { createOrchardServices, type OrchardServices } from '../../src/server/services.js';
import { orchardRoutes } from '../../src/server/routes.js';
import {
  openPostgresDatabase,
  pgCoordination,
  type PgCoordination,
  type PostgresDatabase,
} from '../../src/storage/postgres/index.js';
import { makeCa, makeLeaf } from '../support/pki.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const PER_MINUTE = 3;

interface Daemon {
  database: PostgresDatabase;
  coordination: PgCoordination;
  services: OrchardServices;
  server: Server;
  url: string;
}

let db: TestDatabase;
const daemons: Daemon[] = [];

async function daemon(): Promise<Daemon> {
  const ca = await makeCa();
  const signing = await makeLeaf(ca, { subject: 'CN=Signing' });
  const clock = () => new Date();
  const database = await openPostgresDatabase({ url: db.url, pool: { max: 4 } });
  const coordination = await pgCoordination(database.connection.pool, { url: db.url });
  const { storage, admin } = database;
  const services = createOrchardServices({
    ...{ storage, admin, ca: database.ca, push: undefined, clock, coordination },
    pki: { ca, signing: { ...signing, chain: [ca.certificate] } },
    logger: silentLogger,
  });
  const routes = orchardRoutes(
    {
      ...{ services, storage, admin, push: undefined, clock, logger: silentLogger },
      certificates: database.ca.certificates,
    },
    { rateLimitPerMinute: PER_MINUTE },
  );
  const logger = { ...silentLogger, child: () => silentLogger };
  const server = createServer(createEdgeListener({ routes, logger }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const d = { database, coordination, services, server, url };
  daemons.push(d);
  return d;
}

beforeAll(async () => {
  db = await createTestDatabase('coordination_routes');
});

afterAll(async () => {
  for (const d of daemons) {
    d.server.closeAllConnections();
    await new Promise((resolve) => d.server.close(resolve));
    await d.services.close();
    await d.coordination.close();
    await d.database.close();
  }
  await db.drop();
});

describe('rate limits of two daemons on one database', () => {
  test('ok/enrollment link requests spread over two daemons are limited as by one', async () => {
    const [a, b] = [await daemon(), await daemon()];
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${(i % 2 === 0 ? a : b).url}/enroll/no-such-link`);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    // Each daemon alone would let 3 through (6 in all); together they let 3 through.
    expect(statuses.filter((s) => s !== 429)).toHaveLength(PER_MINUTE);
    expect(statuses.slice(PER_MINUTE).every((s) => s === 429)).toBe(true);
  });

  test('fail/failed admin logins on one daemon lock the address out on the other', async () => {
    const [a, b] = daemons as [Daemon, Daemon];
    const call = async (d: Daemon) => {
      const res = await fetch(`${d.url}/api/v1/groups`, {
        headers: { authorization: 'Bearer orchard_wrong_key' },
      });
      await res.arrayBuffer();
      return res.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < PER_MINUTE; i++) statuses.push(await call(a));
    expect(statuses.every((s) => s === 403)).toBe(true);
    const other = await fetch(`${b.url}/api/v1/groups`, {
      headers: { authorization: 'Bearer orchard_wrong_key' },
    });
    expect(other.status).toBe(429);
    expect(Number(other.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
