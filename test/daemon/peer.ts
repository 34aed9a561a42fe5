/**
 * HTTP requests from a chosen loopback address (127.0.0.2 is "the proxy", 127.0.0.1 anyone
 * else), each on a fresh connection, so the daemon sees the peer the test means.
 */
import { request } from 'node:http';

/** An answer of {@link requestFrom}. */
export interface PeerAnswer {
  status: number;
  body: string;
  headers: Record<string, unknown>;
}

/** Sends one request to `baseUrl` from `localAddress` on a new connection. */
export function requestFrom(
  baseUrl: string,
  localAddress: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
): Promise<PeerAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, localAddress, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A `fetch` whose requests leave from `localAddress` (each on a new connection), for a client
 * that must not share another's rate-limit bucket. Takes string URLs and byte or string bodies.
 */
export function fetchFrom(localAddress: string): typeof fetch {
  const peerFetch = (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input);
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          localAddress,
          method: init.method ?? 'GET',
          path: url.pathname + url.search,
          headers: (init.headers ?? {}) as Record<string, string>,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const headers = Object.entries(res.headers).flatMap(([k, v]) =>
              v === undefined ? [] : [[k, String(v)] as [string, string]],
            );
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers }));
          });
        },
      );
      req.on('error', reject);
      req.end((init.body ?? undefined) as Uint8Array | string | undefined);
    });
  };
  return peerFetch;
}
