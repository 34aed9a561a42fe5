/**
 * Embedding the MDM core as a fetch-style handler, `(Request) => Promise<Response>`, for
 * frameworks and runtimes built on the fetch API. Here it is mounted on node:http through a
 * tiny bridge; in Hono, Bun or Deno you would pass `mdm` to the router directly.
 * Run: DEVICE_CA=ca.pem npx tsx examples/fetch-handler.ts
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createMdmCore, createMemoryStorage, withCertAuth } from '../src/index.js';
import { createFetchHandler } from '../src/http/fetch.js';

const storage = createMemoryStorage();
const core = createMdmCore(
  { storage },
  { topic: process.env.MDM_TOPIC ?? 'com.apple.mgmt.External.example' },
);
const roots = [readFileSync(process.env.DEVICE_CA ?? 'ca.pem', 'utf8')];
const mdm = createFetchHandler(withCertAuth(core, { store: storage, roots }));

// The bridge: node request → Request → mdm → node response.
createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const body = req.method === 'GET' ? null : Buffer.concat(chunks);
    void mdm(
      new Request(`http://127.0.0.1${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        body,
      }),
    ).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
}).listen(8081, '127.0.0.1', () => {
  console.log('MDM (fetch) on http://127.0.0.1:8081/mdm');
});
