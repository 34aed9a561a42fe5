/**
 * Fault injection: a storage whose every method fails makes every device route answer 5xx,
 * never 401 (which would unenroll the device) and never a stack trace.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { StorageError } from '../../src/errors.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import type { MdmStorage } from '../../src/storage/ports.js';
import type { DeviceEmulator, EmulatorResponse } from '../support/device-emulator.js';
import { startHarness, TOPIC, type Harness } from '../e2e/harness.js';

function faulty(inner: MdmStorage, make: () => Error): MdmStorage {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'close') return () => target.close();
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? () => Promise.reject(make()) : value;
    },
  });
}

const routes: [string, (d: DeviceEmulator) => Promise<EmulatorResponse>][] = [
  ['Authenticate', (d) => d.authenticate()],
  ['TokenUpdate', (d) => d.tokenUpdate()],
  ['CheckOut', (d) => d.checkin('CheckOut', { Topic: TOPIC })],
  ['UserAuthenticate', (d) => d.user('macos').checkin('UserAuthenticate')],
  [
    'SetBootstrapToken',
    (d) => d.checkin('SetBootstrapToken', { BootstrapToken: Buffer.from('x') }),
  ],
  ['GetBootstrapToken', (d) => d.checkin('GetBootstrapToken')],
  ['GetToken', (d) => d.checkin('GetToken', { TokenServiceType: 'com.apple.maid' })],
  ['DeclarativeManagement', (d) => d.checkin('DeclarativeManagement', { Endpoint: 'tokens' })],
  ['newer check-in', (d) => d.checkin('FutureMessage')],
  ['Idle', (d) => d.idle()],
  ['Acknowledged', (d) => d.answer('5BC5C0E8-0000-4000-8000-000000000000', 'Acknowledged')],
];

const STORAGE_FREE = ['GetToken', 'DeclarativeManagement', 'newer check-in'];

describe.each([
  ['StorageError, cert auth', () => new StorageError('disk on fire'), 'cert-auth', 503],
  ['plain Error, cert auth', () => new Error('boom at /secret/path'), 'cert-auth', 500],
  ['StorageError, core only', () => new StorageError('disk on fire'), 'plain', 503],
  ['plain Error, core only', () => new Error('boom at /secret/path'), 'plain', 500],
] as const)('faults: %s', (_name, make, service, status) => {
  let h: Harness;
  let dev: DeviceEmulator;
  beforeAll(async () => {
    h = await startHarness(faulty(createMemoryStorage(), make), { service });
    dev = await h.device();
  });
  afterAll(() => h.close());

  test.each(routes)(
    'fail/%s answers 5xx (or a storage-free answer), never 401',
    async (_route, send) => {
      const res = await send(dev);
      // Without cert auth, the default GetToken/DeclarativeManagement/newer-check-in answers touch no storage.
      const storageFree = service === 'plain' && STORAGE_FREE.includes(_route);
      expect(storageFree ? [200, 404] : [status]).toContain(res.status);
      expect(res.status).not.toBe(401);
      expect(res.body.toString()).not.toMatch(/at |secret|disk on fire/);
      // Every error answer has a message a person can read, generic for a 5xx.
      if (res.status >= 500)
        expect(JSON.parse(res.body.toString())).toEqual({
          code: expect.any(String),
          message: expect.stringMatching(/unavailable|internal error/),
        });
    },
  );
});
