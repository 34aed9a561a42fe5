/**
 * Embedding the MDM core in a plain node:http server.
 * Run (after `npm install`, which builds dist/):
 *   DEVICE_CA=ca.pem MDM_TOPIC=com.apple.mgmt.External.… PORT=8080 npx tsx examples/node-http-server.ts
 * Devices must sign their messages (`SignMessage: true` in the enrollment profile) or come
 * through a TLS proxy that forwards the client certificate in `Client-Cert` (RFC 9440).
 * It listens on 127.0.0.1 only; `PORT=0` picks a free port, printed on stdout.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMdmCore, createMemoryStorage, withCertAuth } from 'orchard-mdm';
import { createNodeListener } from 'orchard-mdm/node';

const storage = createMemoryStorage();
const core = createMdmCore(
  {
    storage,
    // A stand-in PushProvider; a real one is createApnsPushProvider(...) (see docs/push.md).
    push: {
      push: (targets) => {
        console.log('would push', targets.length);
        return Promise.resolve(
          targets.map((t) => ({ enrollmentId: t.enrollmentId, outcome: 'sent' as const })),
        );
      },
    },
  },
  { topic: process.env.MDM_TOPIC ?? 'com.apple.mgmt.External.example' },
);
core.events.on('enrolled', (e) => {
  console.log('enrolled', e.enrollmentId);
  // Ask every new device who it is.
  core
    .enqueue([e.enrollmentId], { RequestType: 'DeviceInformation', Queries: ['DeviceName'] })
    .catch((err: unknown) => {
      console.error('could not queue', err);
    });
});
core.events.on('command-result', (e) => {
  console.log('result', e.commandUuid, e.status);
});

const service = withCertAuth(core, {
  store: storage,
  roots: [readFileSync(process.env.DEVICE_CA ?? 'ca.pem', 'utf8')],
});
const server = createServer(
  createNodeListener(service, { identity: { certHeader: 'client-cert' } }),
);
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`MDM on http://127.0.0.1:${port}/mdm`);
});
process.on('SIGTERM', () => {
  server.close(() => void core.close());
});
