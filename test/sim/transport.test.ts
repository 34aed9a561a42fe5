/**
 * The simulator's HTTP side against a real node:http server on 127.0.0.1 that plays a daemon
 * whose kept-alive connection timed out just as the device reused it: the server drops a
 * connection when a request arrives on it (a second request on a kept-alive socket, or every
 * request). The device sends the request once more on a new connection, as Apple's HTTP stack
 * does; a second reset, or an error other than a reset, fails the request.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import {
  CHECKIN_CONTENT_TYPE,
  isConnectionReset,
  sendSigned,
  type SimIdentity,
} from '../../src/sim/transport.js';
import { describeError } from '../../src/sim/session.js';
import { createTestCa, issueDeviceIdentity } from '../support/device-pki.js';

let identity: SimIdentity;
let server: Server | undefined;

beforeAll(async () => {
  identity = await issueDeviceIdentity(await createTestCa('Transport CA'), 'device');
});

afterEach(async () => {
  const s = server;
  server = undefined;
  if (s === undefined || !s.listening) return;
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
});

/**
 * A server answering an empty 200 unless `drop(n)` says to destroy the socket of the n-th
 * request on it (1-based) without answering; resolves its URL and the requests it saw.
 */
async function serve(drop: (nthOnSocket: number) => boolean) {
  const seen: { socket: number; nth: number }[] = [];
  const sockets = new Map<Socket, number>();
  server = createServer({ keepAliveTimeout: 60_000 }, (req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      const socket = req.socket;
      const id = sockets.get(socket) ?? sockets.size;
      sockets.set(socket, id);
      const nth = seen.filter((s) => s.socket === id).length + 1;
      seen.push({ socket: id, nth });
      if (drop(nth)) socket.destroy();
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mdm`, seen };
}

/** `fetch`, counting its calls. */
function countingFetch() {
  const calls = { n: 0 };
  const fetchFn: typeof fetch = (input, init) => {
    calls.n++;
    return fetch(input, init);
  };
  return { calls, fetchFn };
}

const idle = { Status: 'Idle', UDID: 'device' };

describe('sendSigned', () => {
  test('ok/a request on a kept-alive connection the server dropped is sent once more on a new one', async () => {
    const { url, seen } = await serve((nth) => nth === 2);
    const { calls, fetchFn } = countingFetch();
    const first = await sendSigned(fetchFn, url, idle, identity, CHECKIN_CONTENT_TYPE);
    expect(first).toMatchObject({ status: 200, body: undefined });
    expect(first.retried).toBeUndefined();
    // Once the client has put the socket back in its pool (a turn after the body ended).
    await new Promise((resolve) => setImmediate(resolve));
    const second = await sendSigned(fetchFn, url, idle, identity, CHECKIN_CONTENT_TYPE);
    expect(second).toMatchObject({ status: 200, body: undefined, retried: true });
    expect(calls.n).toBe(3);
    // The second request met the first one's socket, the third a new one.
    expect(seen).toEqual([
      { socket: 0, nth: 1 },
      { socket: 0, nth: 2 },
      { socket: 1, nth: 1 },
    ]);
  });

  test('fail/a second reset throws, naming its cause', async () => {
    const { url, seen } = await serve(() => true);
    const { calls, fetchFn } = countingFetch();
    const error = await sendSigned(fetchFn, url, idle, identity, CHECKIN_CONTENT_TYPE).catch(
      (e: unknown) => e,
    );
    expect(isConnectionReset(error)).toBe(true);
    expect(describeError(error)).toMatch(/^fetch failed \((UND_ERR_SOCKET|ECONNRESET|EPIPE): /);
    expect(calls.n).toBe(2);
    expect(seen).toHaveLength(2);
  });

  test('fail/a refused connection is not retried', async () => {
    const { url } = await serve(() => false);
    const closed = server;
    closed?.close();
    await new Promise((resolve) => closed?.once('close', resolve));
    const { calls, fetchFn } = countingFetch();
    const error = await sendSigned(fetchFn, url, idle, identity, CHECKIN_CONTENT_TYPE).catch(
      (e: unknown) => e,
    );
    expect(isConnectionReset(error)).toBe(false);
    expect(describeError(error)).toMatch(/^fetch failed \(ECONNREFUSED: /);
    expect(calls.n).toBe(1);
  });
});

describe('isConnectionReset', () => {
  test.each([
    ['ok/ECONNRESET', 'ECONNRESET', true],
    ['ok/UND_ERR_SOCKET', 'UND_ERR_SOCKET', true],
    ['ok/EPIPE', 'EPIPE', true],
    ['fail/ECONNREFUSED', 'ECONNREFUSED', false],
    ['fail/UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', false],
  ])('%s', (_name, code, expected) => {
    const cause = Object.assign(new Error('x'), { code });
    expect(isConnectionReset(new TypeError('fetch failed', { cause }))).toBe(expected);
  });

  test('fail/an error without a cause', () => {
    expect(isConnectionReset(new Error('boom'))).toBe(false);
    expect(isConnectionReset('boom')).toBe(false);
  });
});
