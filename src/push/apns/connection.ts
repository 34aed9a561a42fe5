/**
 * One HTTP/2 connection to APNs. It opens no more streams than the server allows (its
 * SETTINGS_MAX_CONCURRENT_STREAMS, capped by ours) and tells, for every request it loses,
 * whether APNs can have processed it: refused streams and streams above a GOAWAY's last
 * stream id were not, so they can be resent without sending a push twice.
 */
import http2 from 'node:http2';

/** One push as it goes on the wire. */
export interface ApnsRequestSpec {
  token: string;
  topic: string;
  body: string;
  /** `apns-expiration` (epoch seconds, 0 = do not store). */
  expiration: number;
  priority: 5 | 10;
  /** `apns-id` to send; APNs assigns one when absent (and answers with it either way). */
  apnsId?: string;
}

/** What one attempt to send a push came to. */
export type AttemptResult =
  | { kind: 'response'; status: number; reason: string | undefined; apnsId: string | undefined }
  /** Not processed by APNs (refused, above the GOAWAY line, never sent): safe to resend. */
  | { kind: 'unprocessed' }
  /**
   * Timed out or the connection failed; `maybeProcessed` when APNs may have seen it. `source`
   * identifies the event (one lost connection, one timeout sweep) so a circuit breaker counts
   * a thousand streams lost together as one failure.
   */
  | {
      kind: 'error';
      reason: 'Timeout' | 'ConnectionError';
      maybeProcessed: boolean;
      source: object;
      /** The transport error code behind a `ConnectionError` (e.g. `ECONNREFUSED`), when known. */
      code?: string;
      /** No connection to APNs could be established (refused, DNS, TLS handshake, connect timeout). */
      connect?: boolean;
    };

/** A request waiting for a stream; `done` is called exactly once. */
export interface PendingRequest {
  spec: ApnsRequestSpec;
  deadline: number;
  done(result: AttemptResult): void;
}

/** TLS material for the client side of the connection. */
export interface ApnsTls {
  cert: string;
  key: string;
  /** Extra trust anchors (tests point this at the mock's CA). */
  ca?: string | undefined;
}

interface Inflight {
  req: PendingRequest;
  stream: http2.ClientHttp2Stream;
  status: number;
  apnsId: string | undefined;
  /** Body of an error answer (a 200 has none). */
  body: Buffer[] | undefined;
  /** The sweep that timed it out. */
  timedOut: object | undefined;
  finished: boolean;
  /** Neighbours in the connection's {@link InflightTable} (null when not in it). */
  prev: Inflight | null;
  next: Inflight | null;
}

/**
 * A connection's requests on the wire: found by their stream (a WeakMap) and walked in a list
 * carried by the records. Not a Map by stream id: entries entering and leaving a long-lived Map
 * at the push rate make V8 keep them, with their streams, alive through scavenges (issue 20).
 */
interface InflightTable {
  get(stream: http2.ClientHttp2Stream): Inflight | undefined;
  add(fl: Inflight): void;
  /** Takes `fl` out; nothing when it is not in. */
  remove(fl: Inflight): void;
  /** A copy of the entries, oldest first (safe to finish while walking). */
  values(): Inflight[];
  readonly size: number;
}

function inflightTable(): InflightTable {
  const byStream = new WeakMap<http2.ClientHttp2Stream, Inflight>();
  let first: Inflight | null = null;
  let last: Inflight | null = null;
  let size = 0;
  return {
    get: (stream) => byStream.get(stream),
    add(fl) {
      byStream.set(fl.stream, fl);
      fl.prev = last;
      fl.next = null;
      if (last === null) first = fl;
      else last.next = fl;
      last = fl;
      size++;
    },
    remove(fl) {
      if (fl.prev === null && first !== fl) return; // not in the list (never added, or removed)
      byStream.delete(fl.stream);
      if (fl.prev === null) first = fl.next;
      else fl.prev.next = fl.next;
      if (fl.next === null) last = fl.prev;
      else fl.next.prev = fl.prev;
      fl.prev = fl.next = null;
      size--;
    },
    values() {
      const out: Inflight[] = [];
      for (let fl = first; fl !== null; fl = fl.next) out.push(fl);
      return out;
    },
    get size() {
      return size;
    },
  };
}

/** The listeners of one connection's streams, shared by all of them. */
interface StreamListeners {
  response: (
    this: http2.ClientHttp2Stream,
    headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader,
  ) => void;
  data: (this: http2.ClientHttp2Stream, chunk: Buffer) => void;
  close: (this: http2.ClientHttp2Stream) => void;
}

/**
 * Listeners that find a stream's request in `table`. A stream is never tagged with a
 * property of ours: adding one changes the hidden class of every node:http2 stream, and
 * node's own stream code then runs polymorphic (and deoptimizes) for every push.
 */
function streamListeners(table: InflightTable, finish: (fl: Inflight) => void): StreamListeners {
  const data = function (this: http2.ClientHttp2Stream, chunk: Buffer): void {
    const fl = table.get(this);
    if (fl === undefined) return;
    fl.body ??= [];
    if (fl.body.length < 16) fl.body.push(chunk);
  };
  return {
    response(headers) {
      const fl = table.get(this);
      if (fl === undefined) return;
      const status = headers[':status'] ?? 0;
      fl.status = status;
      fl.apnsId = headers['apns-id'] as string | undefined;
      // The stream flows from the start (see send): only an error answer's body is read.
      if (status !== 200) this.on('data', data);
    },
    data,
    close() {
      const fl = table.get(this);
      if (fl !== undefined) finish(fl);
    },
  };
}
function ignore(): void {
  // Stream errors are read from rstCode in 'close'.
}

/** Callbacks a connection reports to its pool. */
export interface ConnectionHooks {
  /** A stream slot became free or the connection became ready. */
  onCapacity(): void;
  /** The connection stopped taking streams (GOAWAY, error, close). */
  onClosing(conn: ApnsConnection): void;
  /** The connection is gone; `neverReady` when it failed before the server's SETTINGS. */
  onClosed(conn: ApnsConnection, neverReady: boolean): void;
}

/** A live connection as the pool sees it. */
export interface ApnsConnection {
  readonly state: 'connecting' | 'ready' | 'closing' | 'closed';
  readonly openedAt: number;
  /** Code of the error that ended the connection (e.g. `ECONNREFUSED`), when one did. */
  readonly errorCode: string | undefined;
  /** Streams that may be opened now. */
  free(): number;
  readonly active: number;
  send(req: PendingRequest): void;
  /** Cancels requests past their deadline (they resolve as `Timeout`). */
  sweep(now: number): void;
  /** Stops taking streams and closes once in-flight ones are answered. */
  close(): void;
  /** Drops the connection at once; `code` (e.g. `ETIMEDOUT`) is what its requests report. */
  destroy(code?: string): void;
}

const REFUSED = http2.constants.NGHTTP2_REFUSED_STREAM;
const CANCEL = http2.constants.NGHTTP2_CANCEL;

let lastExpiration = 0;
let lastExpirationText = '0';
/** `apns-expiration` as text; pushes of one second share the last string. */
function expirationText(expiration: number): string {
  if (expiration !== lastExpiration) {
    lastExpirationText = String(expiration);
    lastExpiration = expiration;
  }
  return lastExpirationText;
}

function headersOf(spec: ApnsRequestSpec): http2.OutgoingHttpHeaders {
  // One literal shape for every push (node:http2 copies the object anyway).
  const headers: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': '/3/device/' + spec.token,
    'apns-topic': spec.topic,
    'apns-push-type': 'mdm',
    'apns-priority': spec.priority === 5 ? '5' : '10',
    'apns-expiration': expirationText(spec.expiration),
  };
  if (spec.apnsId !== undefined) headers['apns-id'] = spec.apnsId;
  return headers;
}

/** A transport error code fit for results, logs and metric labels, or `undefined`. */
export function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code) ? code : undefined;
}

function reasonOf(body: Buffer[] | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.concat(body).toString('utf8')) as { reason?: unknown };
    return typeof parsed.reason === 'string' ? parsed.reason : undefined;
  } catch {
    return undefined;
  }
}

/** Opens a connection to `url` with the push certificate; `maxStreams` caps the server's limit. */
export function openConnection(
  url: string,
  tls: ApnsTls,
  maxStreams: number,
  hooks: ConnectionHooks,
  now: () => number,
): ApnsConnection {
  const session = http2.connect(url, {
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca ? { ca: tls.ca } : {}),
  });
  /** Requests on the wire. */
  const inflight = inflightTable();
  let state: ApnsConnection['state'] = 'connecting';
  let limit = 0;
  let goawayLast = Number.POSITIVE_INFINITY;
  let everReady = false;
  let errorCode: string | undefined;

  const stopTaking = (): void => {
    if (state === 'ready' || state === 'connecting') {
      state = 'closing';
      hooks.onClosing(conn);
    }
  };
  const finish = (fl: Inflight): void => {
    if (fl.finished) return;
    fl.finished = true;
    const { stream } = fl;
    inflight.remove(fl);
    let result: AttemptResult;
    if (fl.timedOut)
      result = { kind: 'error', reason: 'Timeout', maybeProcessed: true, source: fl.timedOut };
    else if (fl.status > 0)
      result = {
        kind: 'response',
        status: fl.status,
        reason: fl.status === 200 ? undefined : reasonOf(fl.body),
        apnsId: fl.apnsId,
      };
    else if (stream.rstCode === REFUSED || stream.id === undefined || stream.id > goawayLast)
      result = { kind: 'unprocessed' };
    else {
      result = { kind: 'error', reason: 'ConnectionError', maybeProcessed: true, source: conn };
      if (errorCode !== undefined) result.code = errorCode;
    }
    fl.req.done(result);
    if (state === 'ready') hooks.onCapacity();
  };

  session.on('remoteSettings', (settings: http2.Settings) => {
    limit = Math.min(maxStreams, settings.maxConcurrentStreams ?? maxStreams);
    if (state === 'connecting') state = 'ready';
    everReady = true;
    hooks.onCapacity();
  });
  session.on('goaway', (_code: number, lastStreamID: number) => {
    goawayLast = lastStreamID;
    stopTaking();
  });
  session.on('error', (error: unknown) => {
    errorCode ??= errorCodeOf(error);
    stopTaking();
  });
  session.on('close', () => {
    stopTaking();
    state = 'closed';
    for (const fl of inflight.values()) finish(fl);
    hooks.onClosed(conn, !everReady);
  });

  const listeners = streamListeners(inflight, finish);

  const conn: ApnsConnection = {
    get state() {
      return state;
    },
    openedAt: now(),
    get errorCode() {
      return errorCode;
    },
    get active() {
      return inflight.size;
    },
    free: () => (state === 'ready' ? limit - inflight.size : 0),
    send(req) {
      let stream: http2.ClientHttp2Stream;
      try {
        // POST leaves the stream open for the body (endStream defaults to false).
        stream = session.request(headersOf(req.spec));
      } catch {
        stopTaking();
        req.done({ kind: 'unprocessed' });
        return;
      }
      const fl: Inflight = {
        req,
        stream,
        status: 0,
        apnsId: undefined,
        body: undefined,
        timedOut: undefined,
        finished: false,
        prev: null,
        next: null,
      };
      const id = stream.id;
      stream.on('error', ignore);
      if (id === undefined) {
        // Never opened (out of stream ids, session closing): it closes with an error at once.
        stream.on('close', () => {
          finish(fl);
        });
        return;
      }
      inflight.add(fl);
      stream.on('response', listeners.response);
      stream.on('close', listeners.close);
      // Flowing before the answer arrives, as a 200's empty body then ends the stream in one
      // pass; resuming in 'response' costs node four more ticks per push. A 'data' listener
      // added in 'response' still sees every chunk of an error answer (DATA follows HEADERS).
      stream.resume();
      stream.end(req.spec.body);
    },
    sweep(at) {
      const source = {};
      for (const fl of inflight.values()) {
        if (fl.req.deadline > at || fl.timedOut) continue;
        fl.timedOut = source;
        fl.stream.close(CANCEL);
      }
    },
    close() {
      stopTaking();
      if (!session.closed) session.close();
    },
    destroy(code) {
      errorCode ??= code;
      stopTaking();
      session.destroy();
    },
  };
  return conn;
}
