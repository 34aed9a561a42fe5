/**
 * The CertRep writer against `writePkiMessage`: the same fields give the same bytes (RSA
 * PKCS#1 v1.5 signatures are deterministic), across statuses, digests, nonce and content sizes
 * on both sides of every DER length form, and times in both encodings. `FC_RUNS` raises the runs.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { createTransientCertificate } from '../../../src/identity/scep/client.js';
import type { CertificateAuthority } from '../../../src/identity/ca/authority.js';
import { createCertRepWriter, type CertRepWriter } from '../../../src/identity/scep/certrep.js';
import { FailInfo, type FailInfoName } from '../../../src/identity/scep/constants.js';
import { readPkiMessage, writePkiMessage } from '../../../src/identity/scep/message.js';
import { setupCa } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? '60');
let ca: CertificateAuthority;
let write: CertRepWriter;

beforeAll(async () => {
  ({ ca } = await setupCa());
  const w = createCertRepWriter(ca.responder.certificate, ca.responder.privateKey);
  if (w === undefined) throw new Error('no writer for an RSA responder');
  write = w;
});

const sizes = fc.constantFrom(0, 1, 16, 100, 127, 128, 255, 256, 1000, 65_535, 65_536, 70_000);

describe('createCertRepWriter', () => {
  test('ok/byte for byte what writePkiMessage writes', () => {
    fc.assert(
      fc.property(
        fc.record({
          transactionId: fc.stringMatching(/^[A-Za-z0-9+/=-]{1,256}$/),
          recipientNonce: fc.option(fc.uint8Array({ minLength: 0, maxLength: 200 }), {
            nil: undefined,
          }),
          senderNonce: fc.uint8Array({ minLength: 16, maxLength: 16 }),
          pkiStatus: fc.constantFrom('SUCCESS' as const, 'FAILURE' as const, 'PENDING' as const),
          failInfo: fc.option(fc.constantFrom(...(Object.keys(FailInfo) as FailInfoName[])), {
            nil: undefined,
          }),
          digest: fc.constantFrom('sha1' as const, 'sha256' as const, 'sha512' as const),
          size: sizes,
          signingTime: fc.date({
            min: new Date('1950-01-01T00:00:00Z'),
            max: new Date('2200-12-31T23:59:59Z'),
            noInvalidDate: true,
          }),
        }),
        (f) => {
          const content = Buffer.alloc(f.size, 0x5a);
          const fields = {
            transactionId: f.transactionId,
            ...(f.recipientNonce === undefined ? {} : { recipientNonce: f.recipientNonce }),
            senderNonce: f.senderNonce,
            pkiStatus: f.pkiStatus,
            ...(f.failInfo === undefined ? {} : { failInfo: f.failInfo }),
            content,
            digest: f.digest,
            signingTime: f.signingTime,
          };
          const expected = writePkiMessage({
            ...fields,
            messageType: 3,
            certificate: ca.responder.certificate,
            privateKey: ca.responder.privateKey,
          });
          expect(write(fields).equals(expected)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('ok/a reply reads back with its fields', () => {
    const der = write({
      transactionId: 'tx-1',
      recipientNonce: Buffer.alloc(16, 1),
      pkiStatus: 'FAILURE',
      failInfo: 'badTime',
      content: Buffer.alloc(0),
      digest: 'sha256',
      signingTime: new Date(),
    });
    const msg = readPkiMessage(der);
    expect(msg.verified.ok).toBe(true);
    expect([msg.messageType, msg.transactionId, msg.pkiStatus, msg.failInfo]).toEqual([
      3,
      'tx-1',
      'FAILURE',
      'badTime',
    ]);
    expect(msg.recipientNonce).toEqual(Buffer.alloc(16, 1));
    expect(msg.senderNonce).toHaveLength(16);
  });

  test('fail/an EC responder key has no writer (the caller uses writePkiMessage)', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(createCertRepWriter(createTransientCertificate(key, 'CN=ec'), key)).toBeUndefined();
  });
});
