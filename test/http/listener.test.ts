/**
 * The edge listener over a route table, on a real socket: request ids, route-template labels in
 * metrics and logs, per-route limits (429 with Retry-After), methods (405 before the limit), the
 * node fast path, and errors rendered once (404 for no route, never a 401).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createEdgeListener,
  jsonResponse,
  requestIds,
  type EdgeRoute,
} from '../../src/http/node.js';
import { AdminError, type Logger } from '../../src/index.js';

interface Seen {
  route: string;
  method: string;
  status: number;
}

const seen: Seen[] = [];
const lines: object[] = [];
const logger: Logger & { child(bindings: object): Logger } = {
  debug: () => undefined,
  info: (obj) => {
    lines.push(obj);
  },
  warn: () => undefined,
  error: () => undefined,
  child: () => logger,
};
let waits: (number | undefined)[] = [];
let asyncWaits: (number | undefined)[] = [];

const routes: EdgeRoute[] = [
  {
    path: '/fast',
    node: (_req, res) => {
      res.writeHead(204).end();
    },
  },
  {
    path: '/items/',
    prefix: true,
    label: (_method, path) => (path.length > 7 ? '/items/{id}' : '/items/'),
    methods: ['GET'],
    limit: () => waits.shift(),
    serve: ({ path, client }) => jsonResponse(200, { path, client }),
  },
  {
    path: '/async-limit',
    limit: () => Promise.resolve(asyncWaits.shift()),
    serve: () => jsonResponse(200, { served: true }),
  },
  {
    path: '/boom',
    serve: () => {
      throw new AdminError('ERR_API_KEY_MISSING', 'no key');
    },
  },
];

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer(
    createEdgeListener({
      routes,
      logger,
      metrics: {
        request: (route, method, status) => {
          seen.push({ route, method, status });
        },
      },
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => {
    server.close(() => {
      r();
    });
  });
});

function call(method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method, path, headers }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      });
      req.on('error', reject);
      req.end();
    },
  );
}

/** The metrics observation of the latest finished request (written after the answer). */
async function lastSeen(): Promise<Seen | undefined> {
  for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setImmediate(r));
  return seen.pop();
}

describe('createEdgeListener', () => {
  test('ok/a route-template label, the client address and a generated request id', async () => {
    seen.length = 0;
    const res = await call('GET', '/items/secret-token?x=1');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ path: '/items/secret-token', client: '127.0.0.1' });
    expect(String(res.headers['x-request-id'])).toMatch(/^[0-9a-f-]{36}$/);
    expect(await lastSeen()).toEqual({ route: '/items/{id}', method: 'GET', status: 200 });
    expect(JSON.stringify(lines.at(-1))).not.toContain('secret-token');
  });

  test('ok/a well-formed x-request-id is kept; a malformed one is replaced', async () => {
    expect(
      (await call('GET', '/fast', { 'x-request-id': 'abc.DEF-1' })).headers['x-request-id'],
    ).toBe('abc.DEF-1');
    const replaced = await call('GET', '/fast', { 'x-request-id': 'bad id!' });
    expect(replaced.headers['x-request-id']).not.toBe('bad id!');
    expect(replaced.status).toBe(204);
  });

  test('fail/an empty bucket is 429 ERR_RATE_LIMITED with Retry-After', async () => {
    waits = [7];
    const res = await call('GET', '/items/x');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_RATE_LIMITED' });
  });

  test('ok/a limit may answer a promise: 429 when it resolves to a wait, served otherwise', async () => {
    asyncWaits = [9, undefined];
    const limited = await call('GET', '/async-limit');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('9');
    const served = await call('GET', '/async-limit');
    expect(served.status).toBe(200);
    expect(JSON.parse(served.body)).toEqual({ served: true });
    expect(asyncWaits).toEqual([]);
  });

  test('fail/another method is 405 ERR_METHOD, before the limit takes a token', async () => {
    waits = [7];
    const res = await call('POST', '/items/x');
    expect(res.status).toBe(405);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_METHOD' });
    expect(waits).toEqual([7]);
    waits = [];
  });

  test.each([
    ['/nowhere', 404, 'ERR_NOT_FOUND', 'unmatched'],
    ['/boom', 403, 'ERR_API_KEY_MISSING', '/boom'],
  ])('fail/%s is rendered once as JSON (%i %s)', async (path, status, code, label) => {
    seen.length = 0;
    const res = await call('GET', path);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body)).toMatchObject({ code });
    expect((await lastSeen())?.route).toBe(label);
  });
});

describe('requestIds', () => {
  test('ok/ids in UUID form, none repeated over 100,000 of one listener or across listeners', () => {
    const a = requestIds();
    const b = requestIds();
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i++) ids.add(a());
    for (let i = 0; i < 1_000; i++) ids.add(b());
    expect(ids.size).toBe(101_000);
    for (const id of [a(), b()])
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('ok/the counter is the last 12 digits, counting by one across byte boundaries', () => {
    const next = requestIds();
    let previous = Number.parseInt(next().slice(24), 16);
    let steps = 0;
    for (let i = 0; i < 70_000; i++) {
      const n = Number.parseInt(next().slice(24), 16);
      // Wrapping to zero after 2^48 - 1 is the only step that is not +1.
      if (n === previous + 1 || (previous === 2 ** 48 - 1 && n === 0)) steps++;
      previous = n;
    }
    expect(steps).toBe(70_000);
  });
});

describe('client addresses behind a trusted proxy', () => {
  test('ok/a forwarded client is believed per request, never kept for the peer', async () => {
    const proxied = createServer(
      createEdgeListener({ routes, logger, trustedProxies: ['127.0.0.0/8'] }),
    );
    await new Promise<void>((r) => proxied.listen(0, '127.0.0.1', r));
    const at = (proxied.address() as AddressInfo).port;
    const clientOf = (headers: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const req = request({ port: at, host: '127.0.0.1', path: '/items/x', headers }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => {
            resolve((JSON.parse(body) as { client: string }).client);
          });
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await clientOf({})).toBe('127.0.0.1');
      expect(await clientOf({ 'x-forwarded-for': '203.0.113.9' })).toBe('203.0.113.9');
      expect(await clientOf({})).toBe('127.0.0.1');
      expect(await clientOf({ 'x-forwarded-for': '198.51.100.7' })).toBe('198.51.100.7');
    } finally {
      proxied.closeAllConnections();
      await new Promise<void>((r) =>
        proxied.close(() => {
          r();
        }),
      );
    }
  });
});
