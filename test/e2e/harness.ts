/**
 * Test harness: the MDM core behind withCertAuth, served by the node:http adapter on
 * 127.0.0.1:0, with a test CA and a device emulator factory (for crafted messages), plus a SCEP
 * server whose CA it also trusts, so simulated devices (`src/sim`) enroll as real ones do.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeListener } from '../../src/http/node.js';
import { createTokenSealer } from '../../src/service/bootstrap.js';
import { withCertAuth } from '../../src/service/cert-auth.js';
import { createMdmCore, type MdmCore } from '../../src/service/core.js';
import type { PushTarget } from '../../src/push/ports.js';
import type { MdmCoreOptions } from '../../src/service/core-context.js';
import type { MdmEvent } from '../../src/service/events.js';
import type { MdmHandlerOptions } from '../../src/http/mdm.js';
import type { MdmStorage } from '../../src/storage/ports.js';
import { DeviceEmulator, type EmulatorOptions } from '../support/device-emulator.js';
import { createTestCa, issueDeviceIdentity, type TestCa } from '../support/device-pki.js';
import {
  createSimDevice,
  type SimDeviceHandle,
  type SimDeviceOptions,
} from '../../src/sim/index.js';
import { startSimEnrollment } from './sim-enroll.js';

/** The APNs topic the test server expects. */
export const TOPIC = 'com.apple.mgmt.External.00000000-0000-4000-8000-000000000001';

/** A running test server. */
export interface Harness {
  url: string;
  core: MdmCore;
  storage: MdmStorage;
  ca: TestCa;
  events: MdmEvent[];
  pushes: PushTarget[][];
  /** A new emulated device with a fresh identity from the test CA. */
  device(options?: Partial<EmulatorOptions>): Promise<DeviceEmulator>;
  /** A simulated device (an iPhone unless `options` say otherwise) enrolled over SCEP. */
  simDevice(options?: Partial<SimDeviceOptions>): Promise<SimDeviceHandle>;
  close(): Promise<void>;
}

/** Starts a server over `storage`; the caller closes it. */
export async function startHarness(
  storage: MdmStorage,
  options: {
    core?: MdmCoreOptions;
    handler?: MdmHandlerOptions;
    service?: 'plain' | 'cert-auth';
  } = {},
): Promise<Harness> {
  const [ca, enrollment] = await Promise.all([createTestCa(), startSimEnrollment()]);
  const pushes: PushTarget[][] = [];
  const core = createMdmCore(
    {
      storage,
      push: {
        push: (targets) => {
          pushes.push([...targets]);
          return Promise.resolve(
            targets.map((t) => ({ enrollmentId: t.enrollmentId, outcome: 'sent' as const })),
          );
        },
      },
      bootstrapSealer: createTokenSealer(new Uint8Array(32).fill(7)),
    },
    { topic: TOPIC, lastSeenFlushMs: 5, ...options.core },
  );
  const events: MdmEvent[] = [];
  core.events.on('*', (e) => events.push(e));
  const service =
    options.service === 'plain'
      ? core
      : withCertAuth(core, { store: storage, roots: [ca.certificate, enrollment.ca] });
  const server: Server = createServer(
    createNodeListener(service, { identity: { certHeader: 'client-cert' }, ...options.handler }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    core,
    storage,
    ca,
    events,
    pushes,
    async device(opts = {}) {
      const identity = opts.identity ?? (await issueDeviceIdentity(ca, `device-${randomUUID()}`));
      return new DeviceEmulator({ baseUrl: url, identity, topic: TOPIC, ...opts });
    },
    async simDevice(opts = {}) {
      const sim = createSimDevice({
        platform: 'iOS',
        osVersion: '18.1',
        keys: enrollment.keys,
        ...opts,
      });
      await sim.enroll({ profile: enrollment.profile(url, TOPIC) });
      return sim;
    },
    async close() {
      await core.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await storage.close();
      await enrollment.close();
    },
  };
}
