/**
 * Starts Orchard's SCEP handler on node:http at 127.0.0.1:0 (a real socket) for interop tests
 * with scepclient and for the benchmark; `url` is the SCEP endpoint, `close()` stops it.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScepHandler } from '../../src/http/scep.js';

/** A running SCEP server. */
export interface ScepTestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  // 'data' events rather than `for await`: the async iterator costs more than the request itself.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** Serves `handler` under `/scep` on 127.0.0.1 and an ephemeral port. */
export async function startScepServer(handler: ScepHandler, port = 0): Promise<ScepTestServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/scep') {
      res.writeHead(404).end();
      return;
    }
    readBody(req, 1024 * 1024)
      .then((body) => handler({ method: req.method ?? 'GET', query: url.searchParams, body }))
      .then((r) => {
        res.writeHead(r.status, { ...r.headers, 'content-length': String(r.body.length) });
        res.end(r.body);
      })
      .catch(() => res.writeHead(500).end());
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${String(actual)}/scep`,
    port: actual,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => {
          if (e) reject(e);
          else resolve();
        });
      }),
  };
}
