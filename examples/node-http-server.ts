/**
 * Embedding the MDM core in a plain node:http server.
 * Run: DEVICE_CA=ca.pem MDM_TOPIC=com.apple.mgmt.External.… npx tsx examples/node-http-server.ts
 * Devices must sign their messages (`SignMessage: true` in the enrollment profile) or come
 * through a TLS proxy that forwards the client certificate in `Client-Cert` (RFC 9440).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createMdmCore, createMemoryStorage, withCertAuth } from '../src/index.js';
import { createNodeListener } from '../src/http/node.js';

const storage = createMemoryStorage();
const core = createMdmCore(
  {
    storage,
    push: (targets) => {
      console.log('would push', targets.length);
      return Promise.resolve();
    },
  },
  { topic: process.env.MDM_TOPIC ?? 'com.apple.mgmt.External.example' },
);
core.events.on('enrolled', (e) => {
  console.log('enrolled', e.enrollmentId);
  // Ask every new device who it is.
  void core.enqueue([e.enrollmentId], {
    RequestType: 'DeviceInformation',
    Queries: ['DeviceName'],
  });
});
core.events.on('command-result', (e) => {
  console.log(e.commandUuid, e.status);
});

const service = withCertAuth(core, {
  store: storage,
  roots: [readFileSync(process.env.DEVICE_CA ?? 'ca.pem', 'utf8')],
});
const server = createServer(
  createNodeListener(service, { identity: { certHeader: 'client-cert' } }),
);
server.listen(8080, '127.0.0.1', () => {
  console.log('MDM on http://127.0.0.1:8080/mdm');
});
