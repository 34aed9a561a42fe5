import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OrchardError, type OrchardHttpErrorCode } from '../../src/errors.js';
import { createFetchHandler } from '../../src/http/fetch.js';
import { createNodeListener, createProxyTrust, LOOPBACK_PROXIES } from '../../src/http/node.js';
import { withCertAuth } from '../../src/service/cert-auth.js';
import { createMdmCore } from '../../src/service/core.js';
import type { MdmService } from '../../src/service/ports.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { createTestCa, issueDeviceIdentity, type TestCa } from '../support/device-pki.js';
import { requestFrom } from '../daemon/peer.js';

const TOPIC = 'com.apple.mgmt.test';
const CHECKIN = 'application/x-apple-aspen-mdm-checkin';

class Weird401 extends OrchardError {
  // A code no real error has: the union of codes forbids it, so it is forced here.
  readonly code = 'ERR_WEIRD' as string as OrchardHttpErrorCode;
  readonly status = 401;
}

describe('fetch adapter', () => {
  let ca: TestCa;
  let dev: DeviceEmulator;
  let handler: (r: Request) => Promise<Response>;
  beforeAll(async () => {
    ca = await createTestCa();
    const storage = createMemoryStorage();
    const core = createMdmCore({ storage }, { topic: TOPIC });
    handler = createFetchHandler(withCertAuth(core, { store: storage, roots: [ca.certificate] }), {
      maxBodyBytes: 10_000,
    });
    dev = new DeviceEmulator({
      baseUrl: 'http://x',
      identity: await issueDeviceIdentity(ca, 'd'),
      topic: TOPIC,
    });
  });

  const put = (
    path: string,
    body: Uint8Array,
    headers: Record<string, string>,
  ): Promise<Response> =>
    handler(new Request(`http://mdm.example${path}`, { method: 'PUT', body, headers }));

  test('ok/enroll and poll through Request/Response', async () => {
    for (const fields of [
      { MessageType: 'Authenticate', Topic: TOPIC },
      { MessageType: 'TokenUpdate', Topic: TOPIC, Token: Buffer.from([1, 2]), PushMagic: 'm' },
    ]) {
      const body = dev.build(fields);
      const res = await put('/mdm', body, {
        'content-type': CHECKIN,
        ...dev.identityHeaders(body),
      });
      expect(res.status).toBe(200);
    }
    const idle = dev.build({ Status: 'Idle' });
    const res = await put('/mdm', idle, dev.identityHeaders(idle));
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  test('fail/body past the limit is 413 before parsing', async () => {
    const res = await put('/mdm', Buffer.alloc(20_000, 0x20), {});
    expect(res.status).toBe(413);
  });

  test('fail/proxy certificate header ignored unless configured', async () => {
    const body = dev.build({ MessageType: 'Authenticate', Topic: TOPIC });
    const res = await put('/mdm/checkin', body, {
      'content-type': CHECKIN,
      'client-cert': `:${dev.options.identity.certificate.raw.toString('base64')}:`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'ERR_IDENTITY_MISSING' });
  });
});

describe('never 401', () => {
  const service = (fail: () => Promise<never>): MdmService =>
    new Proxy({} as MdmService, { get: () => fail });
  test.each([
    ['service answers 401', () => Promise.resolve({ status: 401 }) as Promise<never>, 500],
    ['OrchardError with status 401', () => Promise.reject(new Weird401('x')), 500],
    ['plain Error', () => Promise.reject(new Error('stack me')), 500],
  ])('fail/%s is answered 500', async (_n, fail, status) => {
    const handler = createFetchHandler(service(fail));
    const body = Buffer.from(
      '<plist><dict><key>MessageType</key><string>CheckOut</string><key>UDID</key><string>U</string></dict></plist>',
    );
    const res = await handler(new Request('http://x/mdm/checkin', { method: 'PUT', body }));
    expect(res.status).toBe(status);
    expect(await res.text()).not.toContain('stack me');
  });
});

describe('node adapter', () => {
  let url: string;
  const server = createServer(
    createNodeListener(createMdmCore({ storage: createMemoryStorage() }), { maxBodyBytes: 1000 }),
  );
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      ),
  );

  test.each([
    ['streamed body past the limit', { method: 'PUT', body: Buffer.alloc(5000, 0x20) }, 413],
    ['GET', { method: 'GET' }, 405],
    ['query string ignored for routing', { method: 'PUT', body: Buffer.from('x') }, 400],
  ])('fail/%s', async (_n, init, status) => {
    const res = await fetch(`${url}/mdm?x=1`, init);
    expect(res.status).toBe(status);
  });
});

describe('identity from a header anyone can send', () => {
  let ca: TestCa;
  let service: MdmService;
  let dev: DeviceEmulator;
  let viaHeader: DeviceEmulator;
  beforeAll(async () => {
    ca = await createTestCa();
    const storage = createMemoryStorage();
    service = withCertAuth(createMdmCore({ storage }, { topic: TOPIC }), {
      store: storage,
      roots: [ca.certificate],
    });
    dev = new DeviceEmulator({
      baseUrl: 'http://x',
      identity: await issueDeviceIdentity(ca, 'h'),
      topic: TOPIC,
    });
    viaHeader = new DeviceEmulator({ ...dev.options, keys: dev.keys, mode: 'header' });
    const enroll = createFetchHandler(service);
    for (const fields of [
      { MessageType: 'Authenticate', Topic: TOPIC },
      { MessageType: 'TokenUpdate', Topic: TOPIC, Token: Buffer.from([1]), PushMagic: 'm' },
    ]) {
      const body = dev.build(fields);
      const res = await enroll(
        new Request('http://x/mdm/checkin', {
          method: 'PUT',
          body,
          headers: { 'content-type': CHECKIN, ...dev.identityHeaders(body) },
        }),
      );
      expect(res.status).toBe(200);
    }
  });

  const idle = () => {
    const body = viaHeader.build({ Status: 'Idle' });
    return { body, headers: viaHeader.identityHeaders(body) };
  };

  test('fail/fetch: identity.certHeader without fromTrustedProxy is a TypeError', () => {
    expect(() => createFetchHandler(service, { identity: { certHeader: 'client-cert' } })).toThrow(
      TypeError,
    );
  });

  test.each([
    ['fail/fetch: the header of a request not from a trusted proxy is ignored: 400', false, 400],
    ['ok/fetch: the header of a request from a trusted proxy identifies the device', true, 200],
  ])('%s', async (_name, trusted, status) => {
    const handler = createFetchHandler(service, {
      identity: { certHeader: 'client-cert' },
      fromTrustedProxy: () => trusted,
    });
    const { body, headers } = idle();
    const res = await handler(new Request('http://x/mdm', { method: 'PUT', body, headers }));
    expect(res.status).toBe(status);
    if (!trusted) expect(await res.json()).toMatchObject({ code: 'ERR_IDENTITY_MISSING' });
  });

  test.each([
    [
      'fail/node: the header from 127.0.0.1, not in trustedProxies, is ignored: 400',
      '127.0.0.1',
      400,
    ],
    [
      'ok/node: the header from 127.0.0.2, in trustedProxies, identifies the device',
      '127.0.0.2',
      200,
    ],
  ])('%s', async (_name, from, status) => {
    const server = createServer(
      createNodeListener(service, {
        identity: { certHeader: 'client-cert' },
        trustedProxies: ['127.0.0.2'],
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { body, headers } = idle();
      const res = await requestFrom(url, from, 'PUT', '/mdm', headers, body);
      expect(res.status).toBe(status);
    } finally {
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    }
  });

  test('ok/node: without trustedProxies only loopback peers are trusted', () => {
    const trust = createProxyTrust(LOOPBACK_PROXIES);
    expect(
      ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1'].map((a) => trust.trusts(a)),
    ).toEqual([true, true, true, true]);
    expect(['192.0.2.1', '10.0.0.1', 'fe80::1'].map((a) => trust.trusts(a))).toEqual([
      false,
      false,
      false,
    ]);
  });
});
