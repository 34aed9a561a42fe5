/**
 * Issue 12 item 3, "Unauthenticated CPU amplification": with `trust` set, the handler checks the
 * identity of a request (Mdm-Signature over the raw body, TLS certificate or proxy header) and
 * its chain before the body is decoded. Junk of up to 4 MiB from senders without a trusted
 * identity is refused with 400 (never 401) and the decoders are called zero times; the test
 * counts decoder calls through the handler's `decoders` option instead of timing anything.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signCms } from '../../src/crypto/cms-sign.js';
import { createNodeListener } from '../../src/http/node.js';
import { decodeCheckin } from '../../src/protocol/checkin.js';
import { decodeReport } from '../../src/protocol/command.js';
import { encodePlist } from '../../src/protocol/plist.js';
import { createMdmCore, type MdmCore } from '../../src/service/core.js';
import { createMdmHandler, type MdmDecoders, type MdmHandlerOptions } from '../../src/http/mdm.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import {
  createTestCa,
  issueDeviceIdentity,
  type TestCa,
  type TestIdentity,
} from '../support/device-pki.js';

const TOPIC = 'com.apple.mgmt.External.amplification';
const MIB = 1024 * 1024;
const CHECKIN = { 'content-type': 'application/x-apple-aspen-mdm-checkin' };
const REPORT = { 'content-type': 'application/x-apple-aspen-mdm' };

/** Decoders that count their calls, then decode for real. */
function countingDecoders(): { calls: { checkin: number; report: number }; decoders: MdmDecoders } {
  const calls = { checkin: 0, report: 0 };
  return {
    calls,
    decoders: {
      checkin: (body, limits) => {
        calls.checkin++;
        return decodeCheckin(body, limits);
      },
      report: (body, limits) => {
        calls.report++;
        return decodeReport(body, limits);
      },
    },
  };
}

/** An XML plist of `<true/>` values, `size` bytes: about 150,000 values per MiB. */
function junkXml(size: number): Buffer {
  const head = '<plist><array>';
  const tail = '</array></plist>';
  const count = Math.floor((size - head.length - tail.length) / 7);
  const pad = ' '.repeat(size - head.length - tail.length - count * 7);
  return Buffer.from(head + '<true/>'.repeat(count) + pad + tail);
}

/** A 1 MB binary plist: one array holding `count` references to one `true` (count values). */
function junkBplist(count: number): Buffer {
  const arrayAt = 8;
  const arrayLength = 1 + 5 + count;
  const trueAt = arrayAt + arrayLength;
  const tableAt = trueAt + 1;
  const out = Buffer.alloc(tableAt + 8 + 32);
  out.write('bplist00', 0, 'latin1');
  out[arrayAt] = 0xaf;
  out[arrayAt + 1] = 0x12;
  out.writeUInt32BE(count, arrayAt + 2);
  out.fill(1, arrayAt + 6, trueAt);
  out[trueAt] = 0x09;
  out.writeUInt32BE(arrayAt, tableAt);
  out.writeUInt32BE(trueAt, tableAt + 4);
  const trailer = tableAt + 8;
  out[trailer + 6] = 4;
  out[trailer + 7] = 1;
  out.writeBigUInt64BE(2n, trailer + 8);
  out.writeBigUInt64BE(0n, trailer + 16);
  out.writeBigUInt64BE(BigInt(tableAt), trailer + 24);
  return out;
}

function signature(body: Uint8Array, id: TestIdentity): Record<string, string> {
  const cms = signCms(body, {
    certificate: id.certificate,
    privateKey: id.privateKey,
    detached: true,
  });
  return { 'mdm-signature': cms.toString('base64') };
}

interface World {
  url: string;
  core: MdmCore;
  ca: TestCa;
  trusted: TestIdentity;
  foreign: TestIdentity;
  selfSigned: TestIdentity;
  expired: TestIdentity;
  counter: ReturnType<typeof countingDecoders>;
  device: DeviceEmulator;
}

async function put(
  w: World,
  path: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(w.url + path, { method: 'PUT', headers, body });
  const text = await res.text();
  const code = text.startsWith('{') ? (JSON.parse(text) as { code?: string }).code : undefined;
  return { status: res.status, code };
}

type Case = [
  name: string,
  code: string,
  send: (w: World) => Promise<{ status: number; code: string | undefined }>,
];

const xml4 = junkXml(4 * MIB);
const bplist = junkBplist(999_990);
const checkinJunk = junkXml(200 * 1024);
const idle = encodePlist({ Status: 'Idle', UDID: 'AMPLIFICATION-0001' });

const cases: Case[] = [
  ['no identity, 4 MiB XML report', 'ERR_IDENTITY_MISSING', (w) => put(w, '/mdm', xml4, REPORT)],
  [
    'no identity, 1M-value binary report',
    'ERR_IDENTITY_MISSING',
    (w) => put(w, '/mdm', bplist, {}),
  ],
  [
    'no identity, 200 KiB check-in',
    'ERR_IDENTITY_MISSING',
    (w) => put(w, '/mdm/checkin', checkinJunk, CHECKIN),
  ],
  [
    'Mdm-Signature not base64',
    'ERR_CMS_FORMAT',
    (w) => put(w, '/mdm', xml4, { ...REPORT, 'mdm-signature': '%%%' }),
  ],
  [
    'Mdm-Signature of random bytes',
    'ERR_DER',
    (w) =>
      put(w, '/mdm', xml4, {
        ...REPORT,
        'mdm-signature': Buffer.alloc(600, 0x5a).toString('base64'),
      }),
  ],
  [
    'bad signature value from a trusted device',
    'ERR_CMS_SIGNATURE',
    (w) => {
      const cms = Buffer.from(signature(xml4, w.trusted)['mdm-signature'] ?? '', 'base64');
      cms[cms.length - 5] = (cms[cms.length - 5] ?? 0) ^ 0xff;
      return put(w, '/mdm', xml4, { ...REPORT, 'mdm-signature': cms.toString('base64') });
    },
  ],
  [
    'valid signature of a trusted device over a different body',
    'ERR_CMS_SIGNATURE',
    (w) => put(w, '/mdm', xml4, { ...REPORT, ...signature(idle, w.trusted) }),
  ],
  [
    'self-signed signer',
    'ERR_CERT_CHAIN',
    (w) => put(w, '/mdm', xml4, { ...REPORT, ...signature(xml4, w.selfSigned) }),
  ],
  [
    'signer from a foreign CA',
    'ERR_CERT_CHAIN',
    (w) => put(w, '/mdm', xml4, { ...REPORT, ...signature(xml4, w.foreign) }),
  ],
  [
    // ERR_CERT_CHAIN, not ERR_CMS_SIGNATURE: the chain is refused before the body is hashed.
    'signer from a foreign CA, signature over a different body',
    'ERR_CERT_CHAIN',
    (w) => put(w, '/mdm', xml4, { ...REPORT, ...signature(idle, w.foreign) }),
  ],
  [
    'signer from a foreign CA, binary junk',
    'ERR_CERT_CHAIN',
    (w) => put(w, '/mdm', bplist, signature(bplist, w.foreign)),
  ],
  [
    'expired signer from the trusted CA',
    'ERR_CERT_EXPIRED',
    (w) =>
      put(w, '/mdm/checkin', checkinJunk, { ...CHECKIN, ...signature(checkinJunk, w.expired) }),
  ],
  [
    'proxy header with a foreign certificate',
    'ERR_CERT_CHAIN',
    (w) =>
      put(w, '/mdm', xml4, {
        ...REPORT,
        'client-cert': `:${w.foreign.certificate.raw.toString('base64')}:`,
      }),
  ],
  [
    'proxy header that holds no certificate',
    'ERR_IDENTITY_HEADER',
    (w) => put(w, '/mdm', xml4, { ...REPORT, 'client-cert': ':AAAA:' }),
  ],
];

function fixtureIdentity(name: string): TestIdentity {
  return {
    certificate: new X509Certificate(readFileSync(`fixtures/pki/${name}.pem`)),
    privateKey: createPrivateKey(readFileSync(`fixtures/pki/${name}.key`)),
  };
}

describe('Unauthenticated CPU amplification', () => {
  const w = {} as World;
  let server: Server;
  beforeAll(async () => {
    w.ca = await createTestCa('Amplification CA');
    w.trusted = await issueDeviceIdentity(w.ca, 'trusted');
    w.foreign = await issueDeviceIdentity(await createTestCa('Foreign CA'), 'foreign');
    w.selfSigned = fixtureIdentity('ca-rsa');
    const past = new Date(Date.now() - 400 * 86_400_000);
    w.expired = await issueDeviceIdentity(w.ca, 'old', { at: past, days: 30 });
    w.core = createMdmCore({ storage: createMemoryStorage() }, { topic: TOPIC, outbox: false });
    w.counter = countingDecoders();
    const options: MdmHandlerOptions = {
      trust: { roots: [w.ca.certificate] },
      identity: { certHeader: 'client-cert' },
      decoders: w.counter.decoders,
    };
    server = createServer(createNodeListener(w.core, options));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    w.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    w.device = new DeviceEmulator({ baseUrl: w.url, identity: w.trusted, topic: TOPIC });
  });
  afterAll(async () => {
    await w.core.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test.each(cases)('fail/%s → 400 %s, decoder called 0 times', async (_name, code, send) => {
    w.counter.calls.checkin = 0;
    w.counter.calls.report = 0;
    const res = await send(w);
    expect(res).toEqual({ status: 400, code });
    expect(w.counter.calls).toEqual({ checkin: 0, report: 0 });
  });

  test('fail/4 MiB check-in from a trusted device → 413 before the signature or decoder', async () => {
    w.counter.calls.checkin = 0;
    const res = await put(w, '/mdm/checkin', xml4, { ...CHECKIN, ...signature(xml4, w.trusted) });
    expect(res).toEqual({ status: 413, code: 'ERR_BODY_TOO_LARGE' });
    expect(w.counter.calls.checkin).toBe(0);
  });

  test('ok/a trusted device is decoded once per message and served', async () => {
    w.counter.calls.checkin = 0;
    w.counter.calls.report = 0;
    await w.device.enroll();
    expect((await w.device.idle()).status).toBe(200);
    expect(w.counter.calls).toEqual({ checkin: 2, report: 1 });
  });

  test('fail/report past the value budget from a trusted device → 400 ERR_PLIST_TOO_LARGE', async () => {
    const res = await put(w, '/mdm', bplist, signature(bplist, w.trusted));
    expect(res).toEqual({ status: 400, code: 'ERR_PLIST_TOO_LARGE' });
  });
});

describe('createMdmHandler pre-decode identity, in process', () => {
  test('fail/TLS certificate from a foreign CA → 400 ERR_CERT_CHAIN, decoder called 0 times', async () => {
    const ca = await createTestCa('TLS CA');
    const foreign = await issueDeviceIdentity(await createTestCa('Other CA'), 'tls');
    const { calls, decoders } = countingDecoders();
    const core = createMdmCore({ storage: createMemoryStorage() }, { topic: TOPIC, outbox: false });
    const handler = createMdmHandler(core, { trust: { roots: [ca.certificate] }, decoders });
    const res = await handler({
      method: 'PUT',
      path: '/mdm',
      header: () => undefined,
      body: xml4,
      tlsCertificate: foreign.certificate.raw,
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(Buffer.from(res.body).toString())).toMatchObject({ code: 'ERR_CERT_CHAIN' });
    expect(calls).toEqual({ checkin: 0, report: 0 });
    await core.close();
  });

  test.each([
    ['empty roots', { trust: { roots: [] } }],
    ['roots not an array', { trust: { roots: 'pem' } }],
    ['zero maxItems', { limits: { report: { maxItems: 0 } } }],
    ['fractional maxBytes', { limits: { checkin: { maxBytes: 1.5 } } }],
  ])('fail/%s is a TypeError at creation', async (_name, options) => {
    const core = createMdmCore({ storage: createMemoryStorage() }, { topic: TOPIC, outbox: false });
    expect(() => createMdmHandler(core, options as unknown as MdmHandlerOptions)).toThrow(
      TypeError,
    );
    await core.close();
  });
});
