/**
 * Embedding the MDM core as a fetch-style handler, `(Request) => Promise<Response>`, for
 * frameworks and runtimes built on the fetch API. Here it is mounted on node:http through a
 * tiny bridge; in Hono, Bun or Deno you would pass `mdm` to the router directly.
 * Run (after `npm install`): DEVICE_CA=ca.pem PORT=8081 npx tsx examples/fetch-handler.ts
 * It listens on 127.0.0.1 only; `PORT=0` picks a free port, printed on stdout.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMdmCore, createMemoryStorage, withCertAuth } from 'orchard-mdm';
import { createFetchHandler } from 'orchard-mdm/fetch';

const storage = createMemoryStorage();
const core = createMdmCore(
  { storage },
  { topic: process.env.MDM_TOPIC ?? 'com.apple.mgmt.External.example' },
);
core.events.on('enrolled', (e) => {
  console.log('enrolled', e.enrollmentId);
});
const roots = [readFileSync(process.env.DEVICE_CA ?? 'ca.pem', 'utf8')];
const mdm = createFetchHandler(withCertAuth(core, { store: storage, roots }));

// The bridge: node request → Request → mdm → node response.
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const body = req.method === 'GET' || req.method === 'HEAD' ? null : Buffer.concat(chunks);
    mdm(
      new Request(`http://127.0.0.1${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        body,
      }),
    )
      .then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch((err: unknown) => {
        console.error(err);
        res.writeHead(500).end();
      });
  });
});
server.listen(Number(process.env.PORT ?? 8081), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`MDM (fetch) on http://127.0.0.1:${port}/mdm`);
});
process.on('SIGTERM', () => {
  server.close(() => void core.close());
});
