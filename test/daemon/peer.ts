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
