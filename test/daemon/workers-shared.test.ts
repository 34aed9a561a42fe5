/**
 * `orchard serve --workers 2` over SQLite shares its limits and its metrics (issue 20): requests
 * handed to both workers in turn (round-robin scheduling, so each worker serves every other
 * connection) are refused at exactly the configured `--rate-limit` in total, failed admin logins
 * lock an address out on both workers, and `GET /metrics` answered by either worker counts the
 * requests both served. Driven by counts, never by timers.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';

// Odd on purpose: the former per-worker split (ceil(5 / 2) = 3 each) would allow 6 in all.
const LIMIT = 5;

let d: TestDaemon;

interface Line {
  worker?: number;
  msg?: string;
  route?: string;
  component?: string;
}

function lines(): Line[] {
  return d.stdout.flatMap((l) => {
    try {
      return [JSON.parse(l) as Line];
    } catch {
      return [];
    }
  });
}

/** One request on a connection of its own (the primary hands each to the next worker). */
function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${d.url}${path}`, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The request log lines on `route`. */
function served(route: string): Line[] {
  return lines().filter((l) => l.msg === 'request' && l.route === route);
}

/** The workers whose log lines show a request on `route`. */
function workersServing(route: string): Set<number | undefined> {
  return new Set(served(route).map((l) => l.worker));
}

/**
 * Waits until `count` requests on `route` are logged: the line is written beside the request's
 * count, when the response has finished (which may be after the client has read it).
 */
async function logged(route: string, count: number): Promise<void> {
  for (let i = 0; i < 1000 && served(route).length < count; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(served(route)).toHaveLength(count);
}

/** The sum of a counter's samples whose labels include every one of `labels`. */
function sample(text: string, name: string, labels: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (labels.every((l) => line.includes(l))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

beforeAll(async () => {
  d = await spawnDaemon({
    args: ['--workers', '2', '--rate-limit', `${String(LIMIT)}/min`],
    env: { NODE_CLUSTER_SCHED_POLICY: 'rr' },
  });
  // Both workers listen before the counting starts.
  for (let i = 0; i < 600 && lines().filter((l) => l.msg === 'listening').length < 2; i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(lines().filter((l) => l.msg === 'listening')).toHaveLength(2);
}, 120_000);

afterAll(async () => {
  await d.cleanup();
});

describe('orchard serve --workers 2 over SQLite shares limits and metrics', () => {
  test('fail/enrollment link fetches spread over both workers are refused at the configured limit in total', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 4; i++) statuses.push((await get(`/enroll/nope${i}`)).status);
    // Without a push certificate a link is 503; the limit is taken before that answer.
    expect(statuses.map((s) => s === 429)).toEqual([
      ...Array<boolean>(LIMIT).fill(false),
      ...[true, true, true, true],
    ]);
    expect(statuses.filter((s) => s !== 429 && s !== 503)).toEqual([]);
    await logged('/enroll/{token}', LIMIT + 4);
    expect(workersServing('/enroll/{token}')).toEqual(new Set([1, 2]));
  });

  test('fail/failed admin logins lock the address out on both workers; a valid key still works', async () => {
    const wrong = { authorization: 'Bearer wrong-key' };
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++)
      statuses.push((await get('/api/v1/enrollments', wrong)).status);
    // Failures on both workers count together: refused from the sixth on, whichever worker.
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(403), 429, 429]);
    const valid = { authorization: `Bearer ${d.apiKey ?? ''}` };
    expect([(await get('/api/v1/enrollments', valid)).status]).toEqual([200]);
    expect([(await get('/api/v1/enrollments', valid)).status]).toEqual([200]);
  });

  test('ok/GET /metrics counts the requests of both workers, whichever worker answers', async () => {
    const N = 6;
    for (let i = 0; i < N; i++) await get('/healthz');
    await logged('/healthz', N);
    const first = await get('/metrics');
    const second = await get('/metrics');
    for (const scrape of [first, second]) {
      expect(scrape.status).toBe(200);
      expect(sample(scrape.body, 'orchard_http_requests_total', ['route="/healthz"'])).toBe(N);
      // 5 refused links served and 4 refused: 9 on the enrollment route.
      expect(sample(scrape.body, 'orchard_http_requests_total', ['route="/enroll/{token}"'])).toBe(
        LIMIT + 4,
      );
      // Facts of one daemon are not summed: build info stays 1, both workers answered.
      expect(sample(scrape.body, 'orchard_build_info', [])).toBe(1);
      expect(sample(scrape.body, 'orchard_cluster_metrics_workers', ['state="answered"'])).toBe(2);
      expect(sample(scrape.body, 'orchard_cluster_metrics_missed_total', [])).toBe(0);
    }
    await logged('/metrics', 2);
    expect(workersServing('/healthz')).toEqual(new Set([1, 2]));
    expect(workersServing('/metrics')).toEqual(new Set([1, 2]));
  });
});
