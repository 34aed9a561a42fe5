/**
 * A local APNs: HTTP/2 over TLS on 127.0.0.1:0 with a required client certificate. It checks
 * every push the way Apple documents it (method, path, topic = the certificate's UID, push type,
 * priority, expiration, body exactly `{"mdm":"..."}`) and, on demand, answers any error, is slow,
 * hangs, sends GOAWAY, resets connections or lowers SETTINGS_MAX_CONCURRENT_STREAMS.
 */
import { randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { PemPair } from '../push/pki.js';

/** One push the mock received and accepted for processing. */
export interface MockPush {
  token: string;
  topic: string;
  pushMagic: string | undefined;
  apnsId: string;
  /** Index of the connection (0-based, in accept order). */
  session: number;
  /** Serial number of the client (push) certificate of that connection. */
  certSerial: string;
  streamId: number;
}

/** How to answer one push; absent fields mean 200 at once. */
export interface MockReply {
  status?: number;
  reason?: string;
  delayMs?: number;
  /** Never answer (for timeout tests). */
  hang?: boolean;
  /** Answer only once this settles (a push held pending until the test releases it). */
  until?: Promise<unknown>;
}

/** Decides the reply to the `index`-th push (0-based, over all connections). */
export type MockRule = (push: MockPush, index: number) => MockReply | undefined;

/** Options of {@link createApnsMock}. */
export interface ApnsMockOptions {
  /** Server certificate for 127.0.0.1 and the CA that must have issued client certificates. */
  server: PemPair;
  ca: string;
  maxConcurrentStreams?: number;
  /** Keep every push in `pushes` (default true; the bench turns it off). */
  record?: boolean;
}

/** A running mock. */
export interface ApnsMock {
  url: string;
  /** Pushes processed, in arrival order (when recording). */
  readonly pushes: MockPush[];
  /** Number of pushes processed (recorded or not). */
  readonly count: number;
  /** Protocol violations seen (each also answered with a 4xx). */
  readonly violations: string[];
  /** Number of TLS connections accepted so far. */
  readonly connections: number;
  rule: MockRule | undefined;
  /** Called for every processed push before it is answered. */
  onPush: ((push: MockPush, index: number) => void) | undefined;
  /**
   * Sends GOAWAY on every open connection with the highest stream seen as the last processed
   * one (those are still answered unless `code` is non-zero) and returns that line per connection index.
   */
  goaway(code?: number): Map<number, number>;
  /** Destroys every connection's socket abruptly. */
  resetConnections(): void;
  /** Lowers (or raises) SETTINGS_MAX_CONCURRENT_STREAMS on every connection, now and later. */
  setMaxConcurrentStreams(n: number): void;
  close(): Promise<void>;
}

const TOKEN = /^[0-9a-fA-F]{16,200}$/;

function check(
  headers: http2.IncomingHttpHeaders,
  body: string,
  uid: string,
): [number, string] | undefined {
  if (headers[':method'] !== 'POST') return [405, 'MethodNotAllowed'];
  const path = headers[':path'] ?? '';
  if (!path.startsWith('/3/device/')) return [404, 'BadPath'];
  if (!TOKEN.test(path.slice(10))) return [400, 'BadDeviceToken'];
  const topic = headers['apns-topic'];
  if (topic === undefined) return [400, 'MissingTopic'];
  if (topic !== uid) return [400, 'TopicDisallowed'];
  if (headers['apns-push-type'] !== 'mdm') return [400, 'InvalidPushType'];
  if (headers['apns-priority'] !== '10' && headers['apns-priority'] !== '5')
    return [400, 'BadPriority'];
  if (!/^\d+$/.test(String(headers['apns-expiration']))) return [400, 'BadExpirationDate'];
  try {
    const parsed = JSON.parse(body) as unknown;
    const keys = typeof parsed === 'object' && parsed !== null ? Object.keys(parsed) : [];
    const magic = (parsed as { mdm?: unknown }).mdm;
    if (keys.length !== 1 || typeof magic !== 'string' || body !== JSON.stringify({ mdm: magic }))
      return [400, 'BadPayload'];
  } catch {
    return [400, 'PayloadEmpty'];
  }
  return undefined;
}

function answer(
  stream: http2.ServerHttp2Stream,
  apnsId: string,
  status: number,
  reason?: string,
): void {
  if (stream.destroyed || stream.closed) return;
  if (status === 200) {
    stream.respond({ ':status': 200, 'apns-id': apnsId }, { endStream: true });
    return;
  }
  stream.respond({ ':status': status, 'apns-id': apnsId, 'content-type': 'application/json' });
  const extra = status === 410 ? { timestamp: Date.now() } : {};
  stream.end(JSON.stringify({ reason: reason ?? 'InternalServerError', ...extra }));
}

/** Starts a mock APNs on 127.0.0.1 with a random port. */
export async function createApnsMock(options: ApnsMockOptions): Promise<ApnsMock> {
  let maxStreams = options.maxConcurrentStreams ?? 1000;
  const record = options.record ?? true;
  const sessions = new Map<
    http2.ServerHttp2Session,
    { index: number; uid: string; serial: string; last: number }
  >();
  const sockets = new Set<TLSSocket>();
  const hung = new Set<http2.ServerHttp2Stream>();
  let sessionCount = 0;
  let count = 0;
  const server = http2.createSecureServer({
    key: options.server.keyPem,
    cert: options.server.certPem,
    ca: options.ca,
    requestCert: true,
    rejectUnauthorized: true,
    settings: { maxConcurrentStreams: maxStreams },
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('session', (session) => {
    const peer = (session.socket as TLSSocket).getPeerCertificate();
    const uid = (peer.subject as unknown as Record<string, string> | undefined)?.UID ?? '';
    sessions.set(session, { index: sessionCount++, uid, serial: peer.serialNumber, last: 0 });
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
    if (maxStreams !== (options.maxConcurrentStreams ?? 1000))
      session.settings({ maxConcurrentStreams: maxStreams });
  });
  const mock: ApnsMock = {
    url: '',
    pushes: [],
    get count() {
      return count;
    },
    violations: [],
    get connections() {
      return sessionCount;
    },
    rule: undefined,
    onPush: undefined,
    goaway(code = 0) {
      const lines = new Map<number, number>();
      for (const [session, info] of sessions) {
        if (session.closed || session.destroyed) continue;
        lines.set(info.index, info.last);
        session.goaway(code, info.last);
        if (code === 0) session.close();
        else
          setImmediate(() => {
            session.destroy();
          });
      }
      return lines;
    },
    resetConnections() {
      for (const socket of sockets) socket.destroy();
    },
    setMaxConcurrentStreams(n) {
      maxStreams = n;
      for (const session of sessions.keys())
        if (!session.closed) session.settings({ maxConcurrentStreams: n });
    },
    async close() {
      for (const stream of hung) stream.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
  server.on('stream', (stream, headers) => {
    const info = sessions.get(stream.session as http2.ServerHttp2Session);
    if (info === undefined) return;
    info.last = Math.max(info.last, stream.id ?? 0);
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const apnsId = (headers['apns-id'] as string | undefined) ?? randomUUID();
      const bad = check(headers, body, info.uid);
      if (bad !== undefined) {
        mock.violations.push(`${bad[1]}: ${String(headers[':path'])}`);
        answer(stream, apnsId, bad[0], bad[1]);
        return;
      }
      const push: MockPush = {
        token: String(headers[':path']).slice(10),
        topic: String(headers['apns-topic']),
        pushMagic: (JSON.parse(body) as { mdm: string }).mdm,
        apnsId,
        session: info.index,
        certSerial: info.serial,
        streamId: stream.id ?? 0,
      };
      const index = count++;
      if (record) mock.pushes.push(push);
      mock.onPush?.(push, index);
      const reply = mock.rule?.(push, index);
      if (reply?.hang === true) {
        hung.add(stream);
        return;
      }
      const status = reply?.status ?? 200;
      if (reply?.until !== undefined) {
        const respond = (): void => {
          answer(stream, apnsId, status, reply.reason);
        };
        reply.until.then(respond, respond);
      } else if (reply?.delayMs !== undefined)
        setTimeout(() => {
          answer(stream, apnsId, status, reply.reason);
        }, reply.delayMs);
      else answer(stream, apnsId, status, reply?.reason);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  mock.url = `https://127.0.0.1:${port}`;
  return mock;
}
