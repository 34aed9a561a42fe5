/**
 * The offset-based pkiMessage reader against the full CMS parser: on every shape a client sends
 * it gives the full parser's result, and on anything else (other shapes, hostile mutations) it
 * answers `undefined`, so the full parser decides. `FC_RUNS` raises the run count.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { KeyObject } from 'node:crypto';
import { signCms, type CmsAttribute } from '../../../src/crypto/cms-sign.js';
import { octetString, printableString, sequence, tlv } from '../../../src/crypto/der-write.js';
import type { CertificateAuthority } from '../../../src/identity/ca/authority.js';
import { createTransientCertificate } from '../../../src/identity/scep/client.js';
import { ScepOid } from '../../../src/identity/scep/constants.js';
import { readPkiMessageFast } from '../../../src/identity/scep/fast-reader.js';
import {
  readPkiMessage,
  readPkiMessageFull,
  writePkiMessage,
  type PkiMessage,
} from '../../../src/identity/scep/message.js';
import { buildRequest, clientKey, setupCa, type EnrollOptions } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? '300');
let ca: CertificateAuthority;

beforeAll(async () => {
  ({ ca } = await setupCa());
});

/** The full parser's result, or the error it throws. */
function full(der: Uint8Array): PkiMessage | Error {
  try {
    return readPkiMessageFull(der);
  } catch (error) {
    return error as Error;
  }
}

/** Throws unless the fast reader's answer is the full parser's (verified) result. */
function expectSame(der: Uint8Array): void {
  const fast = readPkiMessageFast(der);
  const ref = full(der);
  expect(fast).toBeDefined();
  if (fast === undefined || ref instanceof Error || !ref.verified.ok)
    throw new Error('the full parser did not verify what the fast reader did');
  expect(fast.messageType).toBe(ref.messageType);
  expect(fast.transactionId).toBe(ref.transactionId);
  expect(fast.senderNonce).toEqual(ref.senderNonce);
  expect(fast.recipientNonce).toEqual(ref.recipientNonce);
  expect(fast.signingTime?.getTime()).toBe(ref.signingTime?.getTime());
  expect(fast.digest).toBe(ref.digest);
  expect(fast.content.equals(ref.verified.content)).toBe(true);
  expect(fast.signerInfo.der.equals(ref.verified.signerInfo.der)).toBe(true);
  expect(ref.pkiStatus).toBeUndefined();
  expect(ref.failInfo).toBeUndefined();
}

/** The property: `undefined`, or exactly what the full parser verified. */
function fastIsSafe(der: Uint8Array): void {
  if (readPkiMessageFast(der) !== undefined) expectSame(der);
}

function request(o: EnrollOptions = {}): Buffer {
  return buildRequest(ca, { challenge: 'pw', ...o }).request.der;
}

/** A pkiMessage signed by a transient certificate, with the given SCEP attributes. */
function signedWith(
  attributes: CmsAttribute[],
  options: { detached?: boolean; key?: KeyObject; content?: Buffer } = {},
): Buffer {
  const key = options.key ?? clientKey();
  return signCms(options.content ?? Buffer.from('envelope'), {
    certificate: createTransientCertificate(key, 'CN=transient'),
    privateKey: key,
    signedAttributes: attributes,
    ...(options.detached ? { detached: true } : {}),
  });
}

const attr = (oid: string, ...values: Buffer[]): CmsAttribute => ({ oid, values });
const scepAttributes = (): CmsAttribute[] => [
  attr(ScepOid.messageType, printableString('19')),
  attr(ScepOid.transactionId, printableString('tx-1')),
  attr(ScepOid.senderNonce, octetString(Buffer.alloc(16, 7))),
];

describe('readPkiMessageFast: the shapes clients send', () => {
  test.each([
    ['ok/PKCSReq, SHA-256', {}],
    ['ok/SHA-1 signed (scepclient, older devices)', { digest: 'sha1' as const }],
    ['ok/SHA-512 signed', { digest: 'sha512' as const }],
    ['ok/without signingTime', { signingTime: false as const }],
    ['ok/RenewalReq', { messageType: 'RenewalReq' as const }],
    ['ok/CertPoll', { messageType: 'CertPoll' as const }],
    [
      'ok/3DES envelope, OAEP',
      { cipher: 'des-ede3-cbc' as const, keyTransport: 'rsa-oaep' as const },
    ],
    ['ok/an EC signer', { signerKey: clientKey('ec-p256') }],
    ['ok/a 256-character transaction ID', { transactionId: 'x'.repeat(256) }],
  ])('%s', (_name, o: EnrollOptions) => {
    expectSame(request(o));
  });

  test('ok/an unknown extra attribute is ignored, as the full parser does', () => {
    expectSame(signedWith([...scepAttributes(), attr('1.2.3.4.5', octetString(Buffer.alloc(3)))]));
  });

  test('ok/readPkiMessage answers the same through either reader', () => {
    const der = request();
    const a = readPkiMessage(der);
    const b = readPkiMessageFull(der);
    expect(a.verified.ok && b.verified.ok).toBe(true);
    if (a.verified.ok && b.verified.ok) {
      expect(a.verified.signer.raw.equals(b.verified.signer.raw)).toBe(true);
      expect(a.verified.content.equals(b.verified.content)).toBe(true);
    }
    expect({ ...a, verified: undefined }).toEqual({ ...b, verified: undefined });
  });
});

describe('readPkiMessageFast: anything else is left to the full parser', () => {
  test.each([
    ['fail/a CertRep (pkiStatus present)', () => replyOf(request())],
    [
      'fail/messageType twice',
      () => signedWith([...scepAttributes(), attr(ScepOid.messageType, printableString('17'))]),
    ],
    [
      'fail/messageType with two values',
      () =>
        signedWith([
          attr(ScepOid.messageType, printableString('19'), printableString('17')),
          attr(ScepOid.transactionId, printableString('tx-1')),
        ]),
    ],
    ['fail/no transactionID', () => signedWith([attr(ScepOid.messageType, printableString('19'))])],
    [
      'fail/transactionID too long',
      () =>
        signedWith([
          attr(ScepOid.messageType, printableString('19')),
          attr(ScepOid.transactionId, printableString('x'.repeat(257))),
        ]),
    ],
    [
      'fail/messageType not a number',
      () =>
        signedWith([
          attr(ScepOid.messageType, printableString('abc')),
          attr(ScepOid.transactionId, printableString('tx')),
        ]),
    ],
    [
      'fail/messageType as a UTF8String',
      () =>
        signedWith([
          attr(ScepOid.messageType, tlv(0x0c, Buffer.from('19'))),
          attr(ScepOid.transactionId, printableString('tx')),
        ]),
    ],
    ['fail/detached content', () => signedWith(scepAttributes(), { detached: true })],
    ['fail/trailing bytes', () => Buffer.concat([request(), Buffer.from([0])])],
    ['fail/BER indefinite outer length', () => indefinite(request())],
    ['fail/a signature that does not verify', () => flipLast(request())],
    ['fail/empty input', () => Buffer.alloc(0)],
    ['fail/not DER at all', () => Buffer.from('PKIOperation')],
  ])('%s', (_name, make: () => Buffer) => {
    const der = make();
    expect(readPkiMessageFast(der)).toBeUndefined();
  });

  test('fail/detached content: the full parser reports a 400-class error, not a TypeError', () => {
    const ref = full(signedWith(scepAttributes(), { detached: true }));
    expect(ref instanceof Error ? 'threw' : ref.verified.ok).toBe(false);
  });
});

function replyOf(req: Buffer): Buffer {
  const msg = readPkiMessage(req);
  return writePkiMessage({
    messageType: 3,
    transactionId: msg.transactionId,
    pkiStatus: 'FAILURE',
    failInfo: 'badRequest',
    content: Buffer.alloc(0),
    certificate: ca.responder.certificate,
    privateKey: ca.responder.privateKey,
  });
}

/** The same ContentInfo with a BER indefinite outer length. */
function indefinite(der: Buffer): Buffer {
  const header = (der[1] as number) < 0x80 ? 2 : 2 + ((der[1] as number) & 0x7f);
  return Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(header), Buffer.from([0, 0])]);
}

function flipLast(der: Buffer): Buffer {
  const out = Buffer.from(der);
  out[out.length - 1] = (out[out.length - 1] as number) ^ 1;
  return out;
}

describe('readPkiMessageFast: hostile inputs (property)', () => {
  let valid: Buffer[];
  beforeAll(() => {
    valid = [
      request(),
      request({ digest: 'sha1', signingTime: false }),
      signedWith([...scepAttributes(), attr('1.2.3.4.5', sequence())]),
    ];
  });

  test('fail/flipped bytes: undefined or the full result', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        (which, flips) => {
          const der = Buffer.from(valid[which] as Buffer);
          for (const [at, mask] of flips)
            der[at % der.length] = (der[at % der.length] as number) ^ mask;
          fastIsSafe(der);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('fail/truncated, extended, or with bytes cut out or put in: undefined or the full result', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 }),
        fc.nat(),
        fc.nat({ max: 40 }),
        fc.uint8Array({ maxLength: 40 }),
        (which, at, cut, insert) => {
          const der = valid[which] as Buffer;
          const pos = at % (der.length + 1);
          fastIsSafe(Buffer.concat([der.subarray(0, pos), insert, der.subarray(pos + cut)]));
          fastIsSafe(der.subarray(0, pos));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('fail/a length octet changed anywhere: undefined or the full result', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 }), fc.nat(), fc.integer({ min: -3, max: 3 }), (w, at, d) => {
        const der = Buffer.from(valid[w] as Buffer);
        // Every element header's length octet is at some offset: shift one by a little.
        const pos = 1 + (at % (der.length - 1));
        der[pos] = ((der[pos] as number) + d) & 0xff;
        fastIsSafe(der);
      }),
      { numRuns: RUNS },
    );
  });

  test('ok/random valid requests read the same', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('sha1' as const, 'sha256' as const, 'sha512' as const),
        fc.boolean(),
        fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/),
        (digest, time, transactionId) => {
          expectSame(
            request({ digest, transactionId, ...(time ? {} : { signingTime: false as const }) }),
          );
        },
      ),
      { numRuns: Math.min(RUNS, 25) },
    );
  });
});
