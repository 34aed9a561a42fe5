/**
 * The connection cap of `guardConnections` (security review, issue 12 item 7): the connection
 * that fills the cap closes the longest-idle socket, never a busy one, so held sockets cannot
 * starve a device's check-in; past the cap with nothing idle a connection is refused, and the
 * warning is logged at most once per interval. The tests count events, never time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { guardConnections, type ConnectionGuardStats } from '../../src/http/node.js';
import type { Logger } from '../../src/index.js';
import { hold, within, type Held } from '../support/held-sockets.js';
import { makeCa } from '../support/pki.js';
import { issueServerIdentity } from '../daemon/tls-support.js';

/** V8's full collection, for the test that the guard holds no answered response. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function memoryLogger(): Logger & { warnings: { obj: object; msg: string }[] } {
  const warnings: { obj: object; msg: string }[] = [];
  return {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (obj, msg) => warnings.push({ obj, msg }),
  };
}

describe('guardConnections', () => {
  let server: Server;
  let port: number;
  let stats: ConnectionGuardStats;
  let t = 0;
  const logger = memoryLogger();
  const requests: IncomingMessage[] = [];
  const sockets: Held[] = [];
  let onRequest: () => void = () => undefined;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push(req);
      onRequest();
      // Busy until the whole body has arrived.
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    stats = guardConnections(server, { maxConnections: 3, logger, now: () => t });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    const open = sockets.splice(0);
    for (const s of open) s.socket.destroy();
    await Promise.all(open.map((s) => s.closed));
    // The server sees those closes on its side a moment later; the next test needs them counted.
    for (let i = 0; i < 1000 && stats.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) =>
      server.close(() => {
        r();
      }),
    );
  });

  async function busy(): Promise<Held> {
    const seen = new Promise<void>((r) => (onRequest = r));
    const held = await hold(port);
    sockets.push(held);
    held.socket.write('PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
    await seen;
    return held;
  }

  test('ok/the connection that fills the cap closes the longest-idle one, never a busy one', async () => {
    const idle = await hold(port);
    sockets.push(idle);
    const working = await busy();
    const third = await hold(port);
    sockets.push(third);
    expect(await within(idle.closed, 20_000)).not.toBe('timed out');
    expect(idle.data).toBe('');
    expect(working.isClosed()).toBe(false);
    // The newcomer is served.
    third.socket.write('PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    await within(
      new Promise<void>((r) => {
        third.socket.on('data', () => {
          r();
        });
      }),
      20_000,
    );
    expect(third.data).toMatch(/^HTTP\/1\.1 200/);
    expect(stats.shed).toBe(1);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]?.msg).toMatch(/connection cap reached/);
  });

  test('ok/a kept-alive socket is idle again once answered, and counts as idle since its request', async () => {
    const shedBefore = stats.shed;
    const first = await hold(port);
    sockets.push(first);
    const second = await hold(port); // never speaks: idle since it connected
    sockets.push(second);
    // The first then asks and is answered on its kept-alive connection.
    const answered = new Promise<void>((r) =>
      first.socket.once('data', () => {
        r();
      }),
    );
    first.socket.write('PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    expect(await within(answered, 20_000)).not.toBe('timed out');
    expect(first.data).toMatch(/^HTTP\/1\.1 200/);
    // Filling the cap closes the second (idle longer), not the first (answered since).
    const third = await hold(port);
    sockets.push(third);
    expect(await within(second.closed, 20_000)).not.toBe('timed out');
    expect(first.isClosed()).toBe(false);
    // And the first, idle again, is what the next newcomer sheds once the third has spoken.
    const thirdAnswered = new Promise<void>((r) =>
      third.socket.once('data', () => {
        r();
      }),
    );
    third.socket.write('PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    expect(await within(thirdAnswered, 20_000)).not.toBe('timed out');
    const fourth = await hold(port);
    sockets.push(fourth);
    expect(await within(first.closed, 20_000)).not.toBe('timed out');
    expect(third.isClosed()).toBe(false);
    expect(stats.shed - shedBefore).toBe(2);
  });

  test('fail/past the cap with nothing idle, a new connection is refused and logged once per interval', async () => {
    t += 60_000;
    const before = { refused: stats.refused, warnings: logger.warnings.length };
    await busy();
    await busy();
    await busy();
    const refused = await hold(port);
    sockets.push(refused);
    expect(await within(refused.closed, 20_000)).not.toBe('timed out');
    expect(refused.data).toBe('');
    const again = await hold(port);
    sockets.push(again);
    expect(await within(again.closed, 20_000)).not.toBe('timed out');
    expect(stats.refused - before.refused).toBe(2);
    // Two refusals within the interval: one warning (the fill of the cap logged it first).
    expect(logger.warnings.length - before.warnings).toBe(1);
    t += 10_000;
    const later = await hold(port);
    sockets.push(later);
    expect(await within(later.closed, 20_000)).not.toBe('timed out');
    expect(logger.warnings.length - before.warnings).toBe(2);
    // The counts since the previous warning.
    expect(logger.warnings.at(-1)?.obj).toEqual({ maxConnections: 3, shedIdle: 0, refused: 3 });
  });

  test.each([0, -1, 1.5])('fail/maxConnections %p is a TypeError', (maxConnections) => {
    expect(() => guardConnections(createServer(), { maxConnections, logger })).toThrow(TypeError);
  });
});

describe('guardConnections, what it holds and HTTPS', () => {
  test('ok/an answered response is not kept while its connection stays open', async () => {
    const gc = collector();
    let answered: WeakRef<ServerResponse> | undefined;
    const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      answered = new WeakRef(res);
      res.end('ok');
    });
    guardConnections(server, { maxConnections: 10, logger: memoryLogger() });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const held = await hold((server.address() as AddressInfo).port);
    try {
      const reply = new Promise<void>((r) =>
        held.socket.once('data', () => {
          r();
        }),
      );
      held.socket.write('PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
      expect(await within(reply, 20_000)).not.toBe('timed out');
      // Let node finish the response (detach it from the socket), then collect.
      for (let i = 0; i < 10 && answered?.deref() !== undefined; i++) {
        await new Promise((r) => setImmediate(r));
        gc();
      }
      expect(answered).toBeDefined();
      expect(answered?.deref()).toBeUndefined();
      expect(held.isClosed()).toBe(false);
    } finally {
      held.socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    }
  });

  test('ok/on HTTPS the connection that fills the cap closes the idle TLS one, never a busy one', async () => {
    const ca = await makeCa();
    const identity = await issueServerIdentity(ca);
    let seen: () => void = () => undefined;
    const server = createHttpsServer(
      { cert: identity.certPem, key: identity.keyPem },
      (req: IncomingMessage, res: ServerResponse) => {
        seen();
        req.resume();
        req.on('end', () => res.end('ok'));
      },
    );
    const stats = guardConnections(server, { maxConnections: 3, logger: memoryLogger() });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const open = (): Promise<{
      closed: Promise<void>;
      isClosed: () => boolean;
      end: () => void;
      write: (t: string) => void;
    }> =>
      new Promise((resolve, reject) => {
        const socket = tlsConnect({ port, host: '127.0.0.1', ca: ca.certPem });
        let closed = false;
        const done = new Promise<void>((r) =>
          socket.on('close', () => {
            closed = true;
            r();
          }),
        );
        socket.on('error', () => undefined);
        socket.once('secureConnect', () => {
          resolve({
            closed: done,
            isClosed: () => closed,
            end: () => socket.destroy(),
            write: (t) => socket.write(t),
          });
        });
        socket.once('error', reject);
      });
    const all: { end: () => void }[] = [];
    try {
      const idle = await open();
      all.push(idle);
      const busy = await open();
      all.push(busy);
      const arrived = new Promise<void>((r) => (seen = r));
      busy.write('PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
      await arrived;
      const third = await open();
      all.push(third);
      expect(await within(idle.closed, 20_000)).not.toBe('timed out');
      expect(busy.isClosed()).toBe(false);
      expect(third.isClosed()).toBe(false);
      expect(stats.shed).toBe(1);
    } finally {
      for (const s of all) s.end();
      server.closeAllConnections();
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    }
  }, 30_000);
});
