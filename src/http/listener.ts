/**
 * The edge's node:http listener over a route table: every request gets an id (`x-request-id`),
 * a route label (a template, so no token or SCEP message from a URL reaches a log or a metric
 * label), the client address by the trusted-proxy rules, the route's rate limit (429 with
 * `Retry-After`), one log line and one metrics observation. Device routes give a node listener
 * and run on the fast path; the others answer an {@link EdgeResponse}, errors rendered once by
 * {@link renderError}. Import from `orchard-mdm/node`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EdgeResponse } from './edge.js';
import { renderError, type ErrorFormat } from './errors.js';
import { rateLimited } from './rate-limit.js';
import { createProxyTrust } from './trusted-proxy.js';

/** What a route's handler and limit see of a request. */
export interface EdgeContext {
  req: IncomingMessage;
  method: string;
  /** The path exactly as received (no normalisation, no query). */
  path: string;
  query: URLSearchParams;
  /** The client address: the peer, or what a trusted proxy says in `X-Forwarded-For`. */
  client: string;
  /** The request's logger (bound to its `reqId`). */
  logger: Logger;
}

/** One entry of the route table. */
export interface EdgeRoute {
  /** An exact path, or with `prefix` every path starting with it. */
  path: string;
  prefix?: boolean;
  /** The label in logs and metrics: fixed, or worked out from the path; default `path`. */
  label?: string | ((method: string, path: string) => string);
  /** Methods served; another is refused 405 `ERR_METHOD` before the limit. Default: all. */
  methods?: readonly string[];
  /**
   * Seconds the request must wait (answered 429), or `undefined` to serve it; may resolve to
   * either (a limit that asks a store). A rejection is rendered like a throw of `serve`.
   */
  limit?: (ctx: EdgeContext) => number | undefined | Promise<number | undefined>;
  /** The fast path: a node listener that writes the response itself (device routes). */
  node?: (req: IncomingMessage, res: ServerResponse) => void;
  /** The answer of a request; a throw is rendered by {@link renderError}. */
  serve?: (ctx: EdgeContext) => Promise<EdgeResponse> | EdgeResponse;
}

/** The fields of the one log line per request (message `request`). */
export interface RequestLine {
  reqId: string;
  method: string;
  /** The route's label (a template, never the raw path). */
  route: string;
  status: number;
  ms: number;
  client: string;
}

/** Options of {@link createEdgeListener}. */
export interface EdgeListenerOptions {
  routes: readonly EdgeRoute[];
  logger: Logger & { child(bindings: object): Logger };
  /** Where the one line per request goes; default `logger`. */
  requestLogger?: Logger;
  /**
   * Writes the one line per request instead of `requestLogger` (the daemon's pre-formatted JSON
   * line, see `requestLineWriter`): no logger call or fields object per request.
   */
  requestLine?: (line: RequestLine) => void;
  /** Proxies (CIDRs or addresses) whose `X-Forwarded-For` is believed; default none. */
  trustedProxies?: readonly string[];
  /** Records each finished request, e.g. into Prometheus (`orchard-mdm/metrics`). */
  metrics?: { request(route: string, method: string, status: number, seconds: number): void };
  /** How errors of `serve` handlers are written; default `admin` (JSON `{code, message}`). */
  errorFormat?: ErrorFormat;
  /** The label of a path no route matches; default `unmatched`. */
  unmatchedLabel?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Most peer addresses whose client address is kept (then the cache starts again). */
const PEER_CACHE = 4096;

/** Two lowercase hex digits of each byte value. */
const HEX_BYTES = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * Request ids in UUID form without a random draw per request: a random first 80 bits per
 * listener and a 48-bit counter from a random start. Unique within the process until 2^48
 * requests, across processes as random UUIDs are; an id only names a request, it guards nothing.
 * The counter is kept as six bytes and its text as a head of ten digits redone every 256 ids (a
 * 48-bit number is no small integer to V8: its hex text took a runtime call and 12 `fmod`s).
 */
export function requestIds(): () => string {
  const prefix = randomUUID().slice(0, 24);
  const counter = randomBytes(6);
  let head = '';
  const rehead = (): void => {
    head = prefix;
    for (let i = 0; i < 5; i++) head += HEX_BYTES[counter[i] as number] as string;
  };
  rehead();
  return () => {
    // Increment the six bytes big-endian, wrapping to zero after 2^48 - 1.
    let i = 5;
    while (i >= 0 && counter[i] === 0xff) counter[i--] = 0;
    if (i >= 0) counter[i] = (counter[i] as number) + 1;
    if (i < 5) rehead();
    return head + (HEX_BYTES[counter[5] as number] as string);
  };
}

/** A JSON answer with `status`. */
export function jsonResponse(status: number, value: unknown): EdgeResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: Buffer.from(JSON.stringify(value)),
  };
}

/** Writes an answer with its content length. */
export function sendResponse(res: ServerResponse, answer: EdgeResponse): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
  res.end(answer.body);
}

/**
 * Splits a request target into its literal path and its query. The WHATWG URL parser is not used:
 * it reads `//x/y` as a host (throwing on a bad one) and resolves `%2e%2e` segments, which would
 * route a path other than the one the router vets.
 */
export function requestTarget(target: string | undefined): {
  path: string;
  query: URLSearchParams;
} {
  const raw = target ?? '/';
  const q = raw.indexOf('?');
  return {
    path: q === -1 ? raw : raw.slice(0, q),
    query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)),
  };
}

/** The route serving `path`, or `undefined`. */
export function findRoute(routes: readonly EdgeRoute[], path: string): EdgeRoute | undefined {
  return routes.find((r) => (r.prefix === true ? path.startsWith(r.path) : path === r.path));
}

function labelOf(route: EdgeRoute, method: string, path: string): string {
  if (typeof route.label === 'function') return route.label(method, path);
  return route.label ?? route.path;
}

async function answer(route: EdgeRoute | undefined, ctx: EdgeContext): Promise<EdgeResponse> {
  if (route?.serve === undefined) throw new RequestError('ERR_NOT_FOUND', 'not found');
  if (route.methods !== undefined && !route.methods.includes(ctx.method))
    throw new RequestError('ERR_METHOD', `only ${route.methods.join(', ')} is allowed`);
  // Only a limit that answers a promise (one asking a store) is awaited; others stay synchronous.
  const limited = route.limit?.(ctx);
  const wait = limited instanceof Promise ? await limited : limited;
  if (wait !== undefined) return rateLimited(wait);
  return route.serve(ctx);
}

/**
 * Creates the node:http request listener of `routes` (first match wins). Throws TypeError on an
 * invalid `trustedProxies` entry.
 */
export function createEdgeListener(
  options: EdgeListenerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { routes, logger, metrics } = options;
  const requestLogger = options.requestLogger ?? logger;
  const requestLine =
    options.requestLine ??
    ((line: RequestLine) => {
      requestLogger.info(line, 'request');
    });
  const nextId = requestIds();
  const proxies = createProxyTrust(options.trustedProxies ?? []);
  const format = options.errorFormat ?? 'admin';
  const unmatched = options.unmatchedLabel ?? 'unmatched';
  // A peer's client address depends on its address alone unless a proxy forwarded one: kept by
  // address (node keeps each socket's address string), at most PEER_CACHE entries. Not by socket
  // in a WeakMap: an entry per connection made every scavenge trace an ephemeron table.
  const peers = new Map<string, string>();
  const clientOf = (req: IncomingMessage): string => {
    const peer = req.socket.remoteAddress;
    const forwarded = req.headers['x-forwarded-for'];
    if (forwarded !== undefined || peer === undefined)
      return proxies.clientAddress(peer, forwarded);
    let client = peers.get(peer);
    if (client === undefined) {
      client = proxies.clientAddress(peer, undefined);
      if (peers.size >= PEER_CACHE) peers.clear();
      peers.set(peer, client);
    }
    return client;
  };
  return (req, res) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const reqId = typeof given === 'string' && REQUEST_ID.test(given) ? given : nextId();
    res.setHeader('x-request-id', reqId);
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const method = req.method ?? 'GET';
    const route = findRoute(routes, path);
    const label = route === undefined ? unmatched : labelOf(route, method, path);
    const client = clientOf(req);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics?.request(label, method, res.statusCode, seconds);
      const ms = Math.round(seconds * 1000);
      // The request's id is a field of the line: no child logger per request on the device path.
      requestLine({ reqId, method, route: label, status: res.statusCode, ms, client });
    });
    if (route?.node !== undefined) {
      route.node(req, res);
      return;
    }
    const log = logger.child({ reqId });
    const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
    answer(route, { req, method, path, query, client, logger: log })
      .catch((err: unknown) => renderError(err, format, log))
      .then((out) => {
        sendResponse(res, out);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'could not write a response');
        res.destroy();
      });
  };
}
