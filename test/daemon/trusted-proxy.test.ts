/**
 * Identity from a header anyone can send (security review, issue 12 item 4): `--cert-header`
 * is believed only from `--trusted-proxy` addresses, which also decide the client address of
 * rate limits and logs (`X-Forwarded-For` read right to left, only from a trusted peer). The
 * daemon listens on 127.0.0.1; requests from 127.0.0.2 come from "the proxy".
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { resolveConfig } from '../../src/daemon/config.js';
import { ConfigError } from '../../src/index.js';
import { createProxyTrust } from '../../src/http/node.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import { makeLeaf } from '../support/pki.js';
import { startHarness, type Harness } from './harness.js';
import { requestFrom } from './peer.js';

const PROXY = '127.0.0.2';
const ANYONE = '127.0.0.1';
const HEADER = 'x-client-cert';

describe('createProxyTrust', () => {
  test.each([
    [['10.0.0.0/8'], '10.1.2.3', true],
    [['10.0.0.0/8'], '::ffff:10.1.2.3', true],
    [['10.0.0.0/8'], '11.0.0.1', false],
    [['192.0.2.7'], '192.0.2.7', true],
    [['192.0.2.7'], '192.0.2.8', false],
    [['fd00::/8'], 'fd12:3456::1', true],
    [['fd00::/8'], 'fe80::1', false],
    [['::1'], '::1', true],
    [['2001:DB8::/32'], '2001:db8:ffff::9', true],
    [[], '127.0.0.1', false],
    [['0.0.0.0/0'], undefined, false],
  ])('ok/%j trusts %s: %s', (proxies, address, expected) => {
    expect(createProxyTrust(proxies).trusts(address)).toBe(expected);
  });

  test.each([
    [
      'an untrusted peer: its X-Forwarded-For is ignored',
      '198.51.100.1',
      '203.0.113.5',
      '198.51.100.1',
    ],
    ['a trusted peer: the right-most entry', '10.0.0.1', '203.0.113.5, 203.0.113.6', '203.0.113.6'],
    ['trusted hops are skipped', '10.0.0.1', '203.0.113.5, 10.0.0.9', '203.0.113.5'],
    ['a forged left part is not read', '10.0.0.1', '10.0.0.7, 203.0.113.6', '203.0.113.6'],
    ['every hop trusted: the left-most', '10.0.0.1', '10.0.0.7, 10.0.0.8', '10.0.0.7'],
    [
      'garbage stops at the last trusted hop',
      '10.0.0.1',
      '203.0.113.5, junk, 10.0.0.9',
      '10.0.0.9',
    ],
    ['no header: the peer', '10.0.0.1', undefined, '10.0.0.1'],
    ['IPv4-mapped peer', '::ffff:10.0.0.1', '2001:DB8::1', '2001:db8::1'],
  ])('ok/client address from %s', (_name, peer, forwarded, client) => {
    const trust = createProxyTrust(['10.0.0.0/8']);
    expect(trust.clientAddress(peer, forwarded)).toBe(client);
  });

  test.each(['10.0.0.0/33', 'fd00::/129', 'example.com', '10.0.0.0/', '/8', '10.0.0.0/8x', ''])(
    'fail/%p is a TypeError',
    (entry) => {
      expect(() => createProxyTrust([entry])).toThrow(TypeError);
    },
  );
});

describe('--trusted-proxy and --cert-header at start-up', () => {
  function configError(flags: Record<string, string>, env: Record<string, string> = {}) {
    try {
      resolveConfig(flags, env);
    } catch (error) {
      return error;
    }
    return undefined;
  }

  test('fail/--cert-header without --trusted-proxy is refused, naming both flags', () => {
    const error = configError({ certHeader: 'X-Client-Cert' });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'ERR_CONFIG', flag: '--cert-header' });
    expect((error as Error).message).toMatch(/^--cert-header: .*--trusted-proxy/);
  });

  test.each(['10.0.0.0/33', 'example.com', ',', '10.0.0.1,fd00::/200'])(
    'fail/--trusted-proxy %p names the flag',
    (value) => {
      expect(configError({ trustedProxy: value })).toMatchObject({
        code: 'ERR_CONFIG',
        flag: '--trusted-proxy',
      });
    },
  );

  test('ok/ORCHARD_TRUSTED_PROXY is read when the flag is absent; IPv4, IPv6 and bare addresses', () => {
    const c = resolveConfig(
      { certHeader: 'X-Client-Cert' },
      { ORCHARD_TRUSTED_PROXY: '10.0.0.0/8, fd00::/8,192.0.2.7,::1' },
    );
    expect(c.trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8', '192.0.2.7', '::1']);
    expect(
      resolveConfig({ trustedProxy: '127.0.0.1' }, { ORCHARD_TRUSTED_PROXY: '10.0.0.1' }),
    ).toMatchObject({ trustedProxies: ['127.0.0.1'] });
  });
});

describe('identity from a header anyone can send', () => {
  let h: Harness;
  let device: DeviceEmulator;
  let viaHeader: DeviceEmulator;
  beforeAll(async () => {
    h = await startHarness({ certHeader: HEADER, trustedProxy: PROXY, rateLimit: '3/min' });
    // Enrolled from an address of its own, so ANYONE's rate-limit bucket starts full.
    device = await h.device({ from: '127.0.0.9' });
    viaHeader = new DeviceEmulator({
      ...device.options,
      keys: device.keys,
      mode: 'header',
      certHeader: HEADER,
    });
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });

  function idleFrom(address: string, headers: Record<string, string> = {}) {
    const body = viaHeader.build({ Status: 'Idle' });
    return requestFrom(
      h.daemon.url,
      address,
      'PUT',
      '/mdm',
      {
        'content-type': 'application/x-apple-aspen-mdm',
        ...viaHeader.identityHeaders(body),
        ...headers,
      },
      body,
    );
  }

  test("fail/a device's certificate in the header from a non-proxy address is ignored: 400, never 401", async () => {
    const res = await idleFrom(ANYONE);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_IDENTITY_MISSING' });
  });

  test('fail/a new device cannot Authenticate with a header from a non-proxy address', async () => {
    const ca = {
      certificate: new X509Certificate(readFileSync(join(h.dataDir, 'ca', 'ca.pem'))),
      privateKey: createPrivateKey(readFileSync(join(h.dataDir, 'ca', 'ca.key'))),
    };
    const leaf = await makeLeaf(
      { ...ca, certPem: '', keyPem: '' },
      { subject: 'CN=stranger', keyType: 'ec-p256' },
    );
    const stranger = new DeviceEmulator({
      ...viaHeader.options,
      keys: { UDID: 'STRANGER-1' },
      identity: { certificate: leaf.certificate, privateKey: leaf.privateKey },
    });
    const checkin = (from: string) => {
      const body = stranger.build({ MessageType: 'Authenticate', Topic: h.topic });
      return requestFrom(
        h.daemon.url,
        from,
        'PUT',
        '/mdm/checkin',
        {
          'content-type': 'application/x-apple-aspen-mdm-checkin',
          ...stranger.identityHeaders(body),
        },
        body,
      );
    };
    const refused = await checkin(ANYONE);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'ERR_IDENTITY_MISSING' });
    // The same certificate through the proxy is a valid identity, so the refusal was the peer.
    expect((await checkin(PROXY)).status).toBe(200);
  });

  test('ok/the same header from the configured proxy address identifies the device', async () => {
    const res = await idleFrom(PROXY, { 'x-forwarded-for': '203.0.113.10' });
    expect(res.status).toBe(200);
  });

  test('ok/the log names the client a trusted proxy forwards for, and the peer otherwise', async () => {
    await requestFrom(h.daemon.url, PROXY, 'GET', '/healthz', {
      'x-forwarded-for': '203.0.113.77',
    });
    await requestFrom(h.daemon.url, ANYONE, 'GET', '/healthz', {
      'x-forwarded-for': '203.0.113.78',
    });
    const clients = h.logs
      .filter((l) => l.includes('"route":"/healthz"'))
      .map((l) => (JSON.parse(l) as { client?: string }).client);
    expect(clients).toContain('203.0.113.77');
    expect(clients).toContain(ANYONE);
    expect(clients).not.toContain('203.0.113.78');
  });

  test('fail/X-Forwarded-For from an untrusted peer does not change the rate-limit bucket', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await requestFrom(h.daemon.url, ANYONE, 'GET', `/enroll/nope${i}`, {
        'x-forwarded-for': `198.51.100.${i + 1}`,
      });
      expect(res.status).toBe(404);
    }
    const res = await requestFrom(h.daemon.url, ANYONE, 'GET', '/enroll/nope', {
      'x-forwarded-for': '198.51.100.99',
    });
    expect(res.status).toBe(429);
  });

  test('ok/behind the trusted proxy each forwarded client has its own bucket', async () => {
    const from = (client: string) =>
      requestFrom(h.daemon.url, PROXY, 'GET', '/enroll/nope', { 'x-forwarded-for': client });
    for (let i = 0; i < 3; i++) expect((await from('192.0.2.50')).status).toBe(404);
    expect((await from('192.0.2.50')).status).toBe(429);
    expect((await from('192.0.2.51')).status).toBe(404);
  });
});
