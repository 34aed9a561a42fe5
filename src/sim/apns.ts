/**
 * An APNs-compatible endpoint for simulated devices: HTTP/2 over TLS on 127.0.0.1 speaking the
 * part of Apple's provider API that an MDM server uses (`POST /3/device/{token}`, `apns-topic`,
 * body `{"mdm": PushMagic}`). A daemon is pointed at it with `--apns-url` and `--apns-ca`.
 * See https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
 */
import { randomUUID, type KeyObject, type X509Certificate } from 'node:crypto';
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import {
  createCertificateAuthority,
  generateKeyPairOf,
  issueCertificate,
  Oid,
  privateKeyToPem,
  toCertificate,
  toPrivateKey,
  type IssueCertificateOptions,
} from '../crypto/index.js';

/** A CA certificate and its key. */
interface SimCa {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

/** A certificate and its private key, both PEM. */
export interface SimPemPair {
  certPem: string;
  keyPem: string;
}

/** Options of {@link createSimApns}. */
export interface SimApnsOptions {
  /** Called after a push to a registered token was accepted (200). */
  onPush?: (token: string, payload: { mdm: string }, topic: string) => void;
  /** Port on 127.0.0.1; default 0 (a free one). */
  port?: number;
  /** The CA to issue the server certificate from (e.g. one saved from `ca` of an earlier run); default a new one. */
  ca?: SimPemPair;
}

/** A running APNs-compatible endpoint. */
export interface SimApns {
  /** `https://127.0.0.1:PORT`, for `--apns-url`. */
  readonly url: string;
  /** The CA that issued the server certificate (PEM), for `--apns-ca`. */
  readonly caPem: string;
  /** That CA with its private key, to save and pass back as `ca` so a daemon's `--apns-ca` stays valid. */
  readonly ca: SimPemPair;
  /** Pushes accepted (200). */
  readonly pushes: number;
  /** Pushes refused, by APNs reason (`BadDeviceToken`, `Unregistered`, ...). */
  readonly rejected: Readonly<Record<string, number>>;
  /** Issues a push certificate (subject `UID=<topic>`) from this endpoint's CA. */
  issuePushIdentity(topic: string): Promise<SimPemPair>;
  /** Makes `token` (hex) known: pushes to it answer 200. */
  register(token: string): void;
  /** Forgets `token`: pushes to it answer 410 `Unregistered` from now on. */
  unregister(token: string): void;
  close(): Promise<void>;
}

type Refusal = [status: number, reason: string];

const TOKEN = /^[0-9a-fA-F]{16,200}$/;
const PREFIX = '/3/device/';

/** The CA of the endpoint and its TLS server certificate for 127.0.0.1 and localhost. */
async function createTls(given?: SimPemPair): Promise<{ ca: SimCa; server: SimPemPair }> {
  const ca =
    given === undefined
      ? await createCertificateAuthority({
          subject: 'CN=Orchard Simulated APNs CA',
          keyType: 'ec-p256',
          validityDays: 365,
        })
      : { certificate: toCertificate(given.certPem), privateKey: toPrivateKey(given.keyPem) };
  const server = await issuePair(ca, 'CN=127.0.0.1', {
    extendedKeyUsage: [Oid.serverAuth],
    subjectAltNames: [
      { type: 'ip', value: '127.0.0.1' },
      { type: 'dns', value: 'localhost' },
    ],
  });
  return { ca, server };
}

async function issuePair(
  ca: SimCa,
  subject: IssueCertificateOptions['subject'],
  extra: Partial<IssueCertificateOptions> = {},
): Promise<SimPemPair> {
  const { privateKey, publicKey } = await generateKeyPairOf('ec-p256');
  const cert = await issueCertificate({ publicKey, subject, issuer: ca, ...extra });
  return { certPem: cert.toString(), keyPem: privateKeyToPem(privateKey) };
}

/** The topic a client certificate allows (its subject UID), or undefined without one. */
function topicOf(socket: TLSSocket): string | undefined {
  const subject = socket.getPeerCertificate().subject as Record<string, string> | undefined;
  return subject?.UID;
}

/** Apple's checks of one request, in Apple's order; undefined when it is a valid MDM push. */
function refusal(
  headers: http2.IncomingHttpHeaders,
  body: string,
  allowed?: string,
): Refusal | undefined {
  if (headers[':method'] !== 'POST') return [405, 'MethodNotAllowed'];
  const path = headers[':path'] ?? '';
  if (!path.startsWith(PREFIX)) return [404, 'BadPath'];
  if (!TOKEN.test(path.slice(PREFIX.length))) return [400, 'BadDeviceToken'];
  const topic = headers['apns-topic'];
  if (typeof topic !== 'string') return [400, 'MissingTopic'];
  if (allowed !== undefined && topic !== allowed) return [400, 'TopicDisallowed'];
  const type = headers['apns-push-type'];
  if (type !== undefined && type !== 'mdm') return [400, 'InvalidPushType'];
  return payloadRefusal(body);
}

function payloadRefusal(body: string): Refusal | undefined {
  if (body === '') return [400, 'PayloadEmpty'];
  try {
    const parsed = JSON.parse(body) as { mdm?: unknown } | null;
    if (typeof parsed?.mdm !== 'string' || Object.keys(parsed).length !== 1)
      return [400, 'BadPayload'];
  } catch {
    return [400, 'BadPayload'];
  }
  return undefined;
}

function respond(stream: http2.ServerHttp2Stream, apnsId: string, refused?: Refusal): void {
  if (stream.destroyed || stream.closed) return;
  if (refused === undefined) {
    stream.respond({ ':status': 200, 'apns-id': apnsId }, { endStream: true });
    return;
  }
  const [status, reason] = refused;
  stream.respond({ ':status': status, 'apns-id': apnsId, 'content-type': 'application/json' });
  stream.end(JSON.stringify(status === 410 ? { reason, timestamp: Date.now() } : { reason }));
}

/**
 * Starts an APNs-compatible endpoint on 127.0.0.1 with a freshly generated CA and server
 * certificate. A client certificate is requested but not required; when it carries a subject
 * UID, `apns-topic` must equal it. Unknown tokens answer 400 `BadDeviceToken`, unregistered
 * ones 410 `Unregistered`.
 */
export async function createSimApns(options: SimApnsOptions = {}): Promise<SimApns> {
  const { ca, server } = await createTls(options.ca);
  const known = new Set<string>();
  const removed = new Set<string>();
  const rejected: Record<string, number> = {};
  const sockets = new Set<TLSSocket>();
  let pushes = 0;
  const h2 = http2.createSecureServer({
    key: server.keyPem,
    cert: server.certPem,
    ca: ca.certificate.toString(),
    requestCert: true,
    rejectUnauthorized: false,
  });
  h2.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  h2.on('session', (session) => session.on('error', () => undefined));
  const decide = (
    headers: http2.IncomingHttpHeaders,
    body: string,
    allowed?: string,
  ): Refusal | undefined => {
    const bad = refusal(headers, body, allowed);
    if (bad !== undefined) return bad;
    const token = String(headers[':path']).slice(PREFIX.length).toLowerCase();
    if (removed.has(token)) return [410, 'Unregistered'];
    return known.has(token) ? undefined : [400, 'BadDeviceToken'];
  };
  h2.on('stream', (stream, headers) => {
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const apnsId = (headers['apns-id'] as string | undefined) ?? randomUUID();
      const bad = decide(headers, body, topicOf(stream.session?.socket as TLSSocket));
      respond(stream, apnsId, bad);
      if (bad !== undefined) {
        rejected[bad[1]] = (rejected[bad[1]] ?? 0) + 1;
        return;
      }
      pushes++;
      const token = String(headers[':path']).slice(PREFIX.length).toLowerCase();
      const payload = JSON.parse(body) as { mdm: string };
      options.onPush?.(token, payload, String(headers['apns-topic']));
    });
  });
  await new Promise<void>((resolve) => h2.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = h2.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    caPem: ca.certificate.toString(),
    ca: { certPem: ca.certificate.toString(), keyPem: privateKeyToPem(ca.privateKey) },
    get pushes() {
      return pushes;
    },
    rejected,
    issuePushIdentity: (topic) =>
      issuePair(ca, [
        { type: 'UID', value: topic },
        { type: 'CN', value: `APSP:${topic}` },
      ]),
    register(token) {
      known.add(token.toLowerCase());
      removed.delete(token.toLowerCase());
    },
    unregister(token) {
      if (known.delete(token.toLowerCase())) removed.add(token.toLowerCase());
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        h2.close(() => {
          resolve();
        }),
      );
    },
  };
}
