/**
 * A connection cap for a node:http(s) server (import from `orchard-mdm/node`).
 * `server.maxConnections` refuses connections past the cap; before it is reached, the connection that fills the last slot closes the longest-idle one (a
 * socket with no request in progress: never spoken, or kept alive after an answer), so held idle
 * sockets cannot starve a device's check-in. Hitting the cap is logged as a warning, at most
 * once per interval.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
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
  // Every open socket, in the order its last request began (or it connected), with that request's
  // response (null before the first): the first whose response is finished is the longest idle.
  // Nothing is registered per request (no 'finish' listener): a request moves its socket to the end.
  const sockets = new Map<Socket, ServerResponse | null>();
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
    for (const [socket, res] of sockets) {
      if (socket === except || (res !== null && !res.writableFinished)) continue;
      sockets.delete(socket);
      socket.destroy();
      stats.shed++;
      return;
    }
  };
  const track = (socket: Socket): void => {
    sockets.set(socket, null);
    socket.once('close', () => sockets.delete(socket));
  };
  server.on('connection', (socket: Socket) => {
    stats.open++;
    socket.once('close', () => {
      stats.open--;
    });
    // HTTPS requests arrive on the TLS socket, tracked once the handshake is done.
    if (!(server instanceof TlsServer)) track(socket);
    if (stats.open < maxConnections) return;
    shedOne(socket);
    warn();
  });
  if (server instanceof TlsServer) server.on('secureConnection', track);
  server.on('drop', () => {
    stats.refused++;
    shedOne();
    warn();
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (socket.destroyed) return;
    sockets.delete(socket);
    sockets.set(socket, res);
  });
  return stats;
}
