/**
 * A connection cap for a node:http(s) server (import from `orchard-mdm/node`).
 * `server.maxConnections` refuses connections past the cap; before it is reached, the connection that fills the last slot closes the longest-idle one (a
 * socket with no request in progress: never spoken, or kept alive after an answer), so held idle
 * sockets cannot starve a device's check-in. Hitting the cap is logged as a warning, at most
 * once per interval.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Logger } from '../logger.js';

/** Options of {@link guardConnections}. */
export interface ConnectionGuardOptions {
  /** Most open connections; a positive integer. */
  maxConnections: number;
  logger: Logger;
  /** Milliseconds now, for the log interval; default `Date.now`. */
  now?: () => number;
  /** Least time between two warnings; default 10 s. */
  logIntervalMs?: number;
}

/** What the guard has done so far (for tests and metrics). */
export interface ConnectionGuardStats {
  /** Open connections (TCP, counted from accept to close). */
  readonly open: number;
  /** Idle connections closed to make room. */
  readonly shed: number;
  /** Connections refused at the cap. */
  readonly refused: number;
}

/**
 * The property of a socket that holds its entry (one symbol per process). It is set as the
 * socket connects, so every socket of the server takes the same one hidden-class transition; a
 * WeakMap instead would put an ephemeron entry per connection in every scavenge.
 */
const TRACKED = Symbol('orchard.connection');

/** An open socket's entry in the guard's list (the sentinel's socket is null; unlinked: null). */
interface Tracked {
  socket: Socket | null;
  prev: Tracked | null;
  next: Tracked | null;
}

/** A socket as the guard sees it: carrying its entry once tracked. */
type TrackedSocket = Socket & { [TRACKED]?: Tracked };

/**
 * Whether node:http is answering a request on `socket`: its response in progress, which node
 * keeps as `socket._httpMessage` from the request's arrival until the response has finished
 * (`assignSocket` / `detachSocket`, in every node release since 0.x); pipelined requests wait
 * behind it. Idle: never spoken, or kept alive after an answer.
 */
function answering(socket: Socket): boolean {
  return (socket as Socket & { _httpMessage?: unknown })._httpMessage != null;
}

/**
 * Caps the connections of `server` (HTTP or HTTPS) at `maxConnections`, closing idle ones first.
 * Throws TypeError when `maxConnections` is not a positive integer.
 */
export function guardConnections(
  server: Server,
  options: ConnectionGuardOptions,
): ConnectionGuardStats {
  const { maxConnections, logger } = options;
  if (!Number.isInteger(maxConnections) || maxConnections <= 0)
    throw new TypeError('maxConnections must be a positive integer');
  const now = options.now ?? Date.now;
  const interval = options.logIntervalMs ?? 10_000;
  server.maxConnections = maxConnections;
  // Every open socket, in a list in the order its last request began (or it connected): the
  // first that node is not answering on is the longest idle. Each socket carries its entry, and a
  // request moves it to the end in place; busy or idle is node's own state. Not a Map keyed by
  // socket (re-added each request) holding the response: entries entering and leaving a
  // long-lived Map at this rate make V8 keep them, and all they reference, alive through
  // scavenges (16 live entries turned over 200,000 times: 6.9 MB survived each scavenge, 65 KB
  // without the Map); after a burst of new connections the daemon's keep-alive CPU per check-in
  // rose 10-45%, nearly all of it scavenging (issue 20).
  const order: Tracked = { socket: null, prev: null, next: null }; // sentinel: next is the first
  order.prev = order.next = order;
  const unlink = (t: Tracked): void => {
    if (t.prev === null || t.next === null) return; // shed or closed already
    t.prev.next = t.next;
    t.next.prev = t.prev;
    t.prev = t.next = null;
  };
  const append = (t: Tracked): void => {
    t.prev = order.prev;
    t.next = order;
    (order.prev as Tracked).next = t;
    order.prev = t;
  };
  const stats = { open: 0, shed: 0, refused: 0 };
  let lastLog = -Infinity;
  let logged = { shed: 0, refused: 0 };
  const warn = (): void => {
    const t = now();
    if (t - lastLog < interval) return;
    lastLog = t;
    logger.warn(
      {
        maxConnections,
        shedIdle: stats.shed - logged.shed,
        refused: stats.refused - logged.refused,
      },
      'connection cap reached: idle connections closed, new ones refused while none is idle',
    );
    logged = { shed: stats.shed, refused: stats.refused };
  };
  const shedOne = (except?: Socket): void => {
    for (let t = order.next as Tracked; t !== order; t = t.next as Tracked) {
      const socket = t.socket as Socket;
      if (socket === except || answering(socket)) continue;
      unlink(t);
      socket.destroy();
      stats.shed++;
      return;
    }
  };
  const track = (socket: TrackedSocket): void => {
    const t: Tracked = { socket, prev: null, next: null };
    socket[TRACKED] = t;
    append(t);
    socket.on('close', () => {
      unlink(t);
    });
  };
  // HTTPS requests arrive on the TLS socket, tracked once the handshake is done.
  const tls = server instanceof TlsServer;
  server.on('connection', (socket: Socket) => {
    stats.open++;
    socket.on('close', () => stats.open--);
    if (!tls) track(socket);
    if (stats.open < maxConnections) return;
    shedOne(socket);
    warn();
  });
  if (tls) server.on('secureConnection', track);
  server.on('drop', () => {
    stats.refused++;
    shedOne();
    warn();
  });
  server.on('request', (req: IncomingMessage) => {
    const t = (req.socket as TrackedSocket)[TRACKED];
    if (t === undefined || t.next === null || t === order.prev) return; // untracked, gone, or last
    unlink(t);
    append(t);
  });
  return stats;
}
