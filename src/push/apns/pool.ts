/**
 * A small pool of APNs connections with one FIFO queue in front. Requests go to the first
 * connection with a free stream; a new connection opens only when every open one is full.
 * Connections lost to GOAWAY or errors are replaced while work is queued; nothing queued is
 * dropped, and every request resolves by its deadline.
 */
import {
  openConnection,
  type ApnsConnection,
  type ApnsTls,
  type PendingRequest,
} from './connection.js';

/** Options of {@link createConnectionPool}. */
export interface PoolOptions {
  url: string;
  tls: ApnsTls;
  /** Most connections open at once. */
  size: number;
  /** Most streams per connection (the server's limit applies too). */
  maxStreams: number;
  /** Per-request timeout in milliseconds, counted from submission and again from dispatch. */
  timeoutMs: number;
  now: () => number;
}

/** A pool of connections to one APNs host with one certificate. */
export interface ConnectionPool {
  submit(req: PendingRequest): void;
  /** Removes and returns every request not yet given to a connection. */
  takeQueue(): PendingRequest[];
  /** Stops dispatching; resolves once every connection has closed (in-flight streams answered). */
  close(): Promise<void>;
  readonly connections: number;
  readonly inFlight: number;
  readonly queued: number;
}

/** Creates a pool; connections open lazily on the first request. */
export function createConnectionPool(options: PoolOptions): ConnectionPool {
  const { url, tls, size, maxStreams, timeoutMs, now } = options;
  let queue: PendingRequest[] = [];
  let head = 0;
  const conns: ApnsConnection[] = [];
  let closed = false;
  let onAllClosed: (() => void) | undefined;
  const tick = Math.max(5, Math.min(1000, Math.floor(timeoutMs / 4)));
  const timer = setInterval(() => {
    sweep();
  }, tick);
  timer.unref();

  const queued = (): number => queue.length - head;
  /** Fails every queued request: no connection to APNs could be established. */
  const failQueued = (conn: ApnsConnection): void => {
    const waiting = queue.slice(head);
    queue = [];
    head = 0;
    const code = conn.errorCode;
    for (const req of waiting)
      req.done({
        kind: 'error',
        reason: 'ConnectionError',
        maybeProcessed: false,
        source: conn,
        connect: true,
        ...(code === undefined ? {} : { code }),
      });
  };
  const hooks = {
    onCapacity: () => {
      dispatch();
    },
    onClosing: () => {
      dispatch();
    },
    onClosed(conn: ApnsConnection, neverReady: boolean) {
      const i = conns.indexOf(conn);
      if (i >= 0) conns.splice(i, 1);
      if (closed) {
        if (conns.length === 0) onAllClosed?.();
        return;
      }
      if (neverReady && !conns.some((c) => c.state === 'ready')) failQueued(conn);
      else dispatch();
    },
  };

  function dispatch(): void {
    if (closed) return;
    let i = 0;
    let deadline = -1;
    while (head < queue.length && i < conns.length) {
      const conn = conns[i];
      if (conn === undefined || conn.free() <= 0) {
        i++;
        continue;
      }
      const req = queue[head++] as PendingRequest;
      // One clock read per dispatch round, not per request.
      if (deadline < 0) deadline = now() + timeoutMs;
      req.deadline = deadline;
      conn.send(req);
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (head < queue.length) maybeOpen();
  }

  function maybeOpen(): void {
    let live = 0;
    for (const c of conns) {
      if (c.state === 'connecting') return;
      if (c.state === 'ready') live++;
    }
    if (live < size) conns.push(openConnection(url, tls, maxStreams, hooks, now));
  }

  function sweep(): void {
    const at = now();
    for (const conn of conns) {
      conn.sweep(at);
      if (conn.state === 'connecting' && at - conn.openedAt > timeoutMs) conn.destroy('ETIMEDOUT');
    }
    if (queued() === 0 || (queue[head]?.deadline ?? Infinity) > at) return;
    const keep: PendingRequest[] = [];
    const source = {};
    // Waiting in the queue with no ready connection means APNs could not be reached at all.
    const connect = !conns.some((c) => c.state === 'ready');
    for (let k = head; k < queue.length; k++) {
      const req = queue[k] as PendingRequest;
      if (req.deadline > at) keep.push(req);
      else req.done({ kind: 'error', reason: 'Timeout', maybeProcessed: false, source, connect });
    }
    queue = keep;
    head = 0;
  }

  return {
    submit(req) {
      if (closed) {
        req.done({ kind: 'unprocessed' });
        return;
      }
      req.deadline = now() + timeoutMs;
      queue.push(req);
      dispatch();
    },
    takeQueue() {
      const waiting = queue.slice(head);
      queue = [];
      head = 0;
      return waiting;
    },
    close() {
      closed = true;
      const done = new Promise<void>((resolve) => {
        onAllClosed = () => {
          clearInterval(timer);
          resolve();
        };
      });
      for (const req of this.takeQueue()) req.done({ kind: 'unprocessed' });
      if (conns.length === 0) onAllClosed?.();
      for (const conn of [...conns]) conn.close();
      return done;
    },
    get connections() {
      return conns.filter((c) => c.state !== 'closed').length;
    },
    get inFlight() {
      return conns.reduce((n, c) => n + c.active, 0);
    },
    get queued() {
      return queued();
    },
  };
}
