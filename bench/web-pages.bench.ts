/**
 * Issue 19 performance: the server time of the main pages of the console and the portal with
 * 10,000 owned, enrolled iPhones stored in a real SQLite data dir, rendered through the web
 * app's `app.request` (no network, signed-in sessions): the console's device list, one device
 * of the console, and the portal's device list and device page. The same-run baseline is a bare
 * Hono handler answering a static page of the same size. Goal: every page under 100 ms.
 * `BENCH_WEB_DEVICES` (else 10,000) sets the fleet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { pino } from 'pino';
import { createApiKey } from '../src/admin/api-keys.js';
import { createWebAccounts } from '../src/admin/web-accounts.js';
import { createWebSessions } from '../src/admin/web-sessions.js';
import { resolveConfig } from '../src/daemon/config.js';
import { openServices, type DaemonServices } from '../src/daemon/services.js';
import { createMetrics } from '../src/http/metrics.js';
import { createWebApp } from '../src/http/web/index.js';
import type { WebDeps } from '../src/http/web/types.js';
import { openSqliteDatabase } from '../src/storage/sqlite/index.js';
import { measure, report, type Rate } from './lib.js';

const DEVICES = Number(process.env.BENCH_WEB_DEVICES ?? '10000');
const GOAL_MS = 100;
const T0 = Date.UTC(2026, 0, 1);
const PASSWORD = 'bench password long enough';
const ORIGIN = 'http://localhost';

/** `n` enrolled iPhones, each owned by its own user of the root group (raw SQL, one transaction). */
function populate(path: string, n: number): void {
  const db = new Database(path);
  const series = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)`;
  db.transaction(() => {
    db.prepare(
      `${series} INSERT INTO enrollments (id, type, device_id, enrolled, facts,
         token_update_count, created_at, updated_at)
       SELECT printf('DEV-%06d', i), 'device', printf('DEV-%06d', i), 1,
         '{"DeviceName":"iPhone ' || i || '","ProductName":"iPhone16,1","Model":"iPhone16,1","OSVersion":"17.4","IsSupervised":false,"SerialNumber":"' || printf('S%06d', i) || '"}',
         1, ?, ? FROM n`,
    ).run(n, T0, T0);
    db.prepare(
      `${series} INSERT INTO orchard_users (id, username, email, group_id, policy, generic,
         created_at, updated_at)
       SELECT printf('usr_%06d', i), printf('user%06d', i), printf('user%06d@example.com', i),
         'global', NULL, 0, ?, ? FROM n`,
    ).run(n, T0, T0);
    db.prepare(
      `${series} INSERT INTO orchard_enrollment_owners (enrollment_id, user_id, group_id, assigned_at)
       SELECT printf('DEV-%06d', i), printf('usr_%06d', i), 'global', ? FROM n`,
    ).run(n, T0);
  })();
  db.exec('ANALYZE');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The web app over the daemon's own services, as the daemon wires it. */
function webApp(s: DaemonServices, logger: WebDeps['logger']) {
  const sessions = createWebSessions({ store: s.admin, clock: s.clock });
  const accounts = createWebAccounts({ store: s.admin, clock: s.clock });
  const deps: WebDeps = {
    ...{ core: s.core, storage: s.storage, admin: s.admin, ca: s.ca, enrollment: s.enrollment },
    ...{ identity: s.identity, pushEnabled: false, certificates: s.caStorage.certificates },
    ...{ groups: s.groups, profiles: s.profiles, userLinks: s.userLinks },
    ...{ users: s.users, policies: s.policies, delivery: s.delivery },
    ...{ sessions, accounts, clock: s.clock, logger },
    ...{ publicUrl: () => ORIGIN, secureCookies: false },
  };
  return { app: createWebApp(deps), accounts };
}

type App = ReturnType<typeof webApp>['app'];

/** Posts a sign-in form and returns the session cookie it sets. */
async function signIn(app: App, path: string, form: Record<string, string>): Promise<string> {
  const res = await app.request(path, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const cookie = /^[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0];
  if (res.status !== 303 || cookie === undefined)
    throw new Error(`sign-in at ${path} answered ${res.status}: ${await res.text()}`);
  return cookie;
}

/** One GET of `path` with `cookie`, checked to be a 200 page (showing `shows`); its size in bytes. */
async function page(app: App, path: string, cookie: string, shows = ''): Promise<number> {
  const res = await app.request(path, { headers: { cookie } });
  const body = await res.text();
  if (res.status !== 200 || !body.includes(shows))
    throw new Error(`${path} answered ${res.status} without "${shows}": ${body.slice(0, 300)}`);
  return body.length;
}

const msPer = (rate: Rate): number => 1000 / rate.opsPerSec;

/** Runs the benchmark and prints its table. */
export default async function webPagesBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-web-bench-'));
  const logger = pino({ level: 'silent' });
  const config = resolveConfig(
    { listen: '127.0.0.1:0', dataDir: dir, caKeyType: 'rsa-2048', logLevel: 'silent' },
    {},
  );
  const { path } = config.database as { path: string };
  await openSqliteDatabase({ path }).close();
  populate(path, DEVICES);
  const services = await openServices(config, logger, createMetrics(), () => new Date());
  try {
    const { app, accounts } = webApp(services, logger);
    const key = await createApiKey(services.admin, 'bench', 'write');
    const admin = await signIn(app, '/console/sign-in', { apiKey: key.key });
    const middle = Math.floor(DEVICES / 2);
    const device = `DEV-${String(middle).padStart(6, '0')}`;
    const token = await accounts.setupToken(`usr_${String(middle).padStart(6, '0')}`);
    await accounts.setUserPassword(token, PASSWORD);
    const user = await signIn(app, '/portal/sign-in', {
      login: `user${String(middle).padStart(6, '0')}`,
      password: PASSWORD,
    });
    const name = `iPhone ${middle}`;
    const pages: [string, string, string, string][] = [
      ['console device list', '/console/devices', admin, 'DEV-'],
      ['console device search', `/console/devices?q=${encodeURIComponent(name)}`, admin, device],
      ['console device page', `/console/devices/${device}`, admin, name],
      ['portal device list', '/portal/', user, device],
      ['portal device page', `/portal/devices/${device}`, user, name],
    ];
    const size = await page(app, '/console/devices', admin);
    const bare = new Hono().get('/', (c) => c.html('x'.repeat(size)));
    const baseline = await measure(`bare Hono page of ${size} bytes`, () => bare.request('/'));
    const rows: { rate: Rate }[] = [];
    for (const [label, path, cookie, shows] of pages) {
      const t0 = performance.now();
      await page(app, path, cookie, shows);
      const first = performance.now() - t0;
      const rate = await measure(label, () => page(app, path, cookie, shows));
      rows.push({ rate });
      const verdict = msPer(rate) < GOAL_MS ? 'met' : 'MISSED';
      console.log(
        `${label}: ${msPer(rate).toFixed(2)} ms a page (first ${first.toFixed(1)} ms), goal < ${GOAL_MS} ms ${verdict}`,
      );
    }
    report(`web pages with ${DEVICES.toLocaleString('en-US')} devices (SQLite)`, baseline, rows);
  } finally {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
