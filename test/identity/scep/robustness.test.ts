/**
 * Hostile PKIOperation bodies: mutations of a valid request (flipped bytes, truncation, garbage)
 * are answered with a CertRep or a 4xx with bounded CPU time, never a 5xx, and never issue a
 * certificate for a request whose signed parts were altered. `FC_RUNS` raises the run count.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { CertificateAuthority } from '../../../src/identity/ca/authority.js';
import { staticChallenge } from '../../../src/identity/scep/challenge.js';
import { createScepHandler, type ScepHandler } from '../../../src/http/scep.js';
import { readPkiMessage } from '../../../src/identity/scep/message.js';
import { cpuTimeAsync } from '../../support/cpu.js';
import { signCms } from '../../../src/crypto/cms-sign.js';
import { printableString } from '../../../src/crypto/der-write.js';
import { createTransientCertificate } from '../../../src/identity/scep/client.js';
import { ScepOid } from '../../../src/identity/scep/constants.js';
import { buildRequest, clientKey, setupCa } from './helpers.js';

const RUNS = Number(process.env.FC_RUNS ?? '150');
let ca: CertificateAuthority;
let handler: ScepHandler;
let valid: Buffer;

beforeAll(async () => {
  ({ ca } = await setupCa());
  handler = createScepHandler({ ca, validator: staticChallenge('pw') });
  valid = buildRequest(ca, { challenge: 'pw' }).request.der;
});

async function post(body: Uint8Array): Promise<{ status: number; body: Uint8Array }> {
  return handler({ method: 'POST', query: { operation: 'PKIOperation' }, body });
}

describe('hostile PKIOperation bodies', () => {
  test('ok/the unaltered request issues', async () => {
    const res = await post(valid);
    expect(res.status).toBe(200);
    expect(readPkiMessage(res.body).pkiStatus).toBe('SUCCESS');
  });

  test('fail/flipped bytes: a CertRep or 400, never 5xx; SUCCESS only if the signature still verifies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (flips) => {
          const body = Buffer.from(valid);
          for (const [at, mask] of flips)
            body[at % body.length] = (body[at % body.length] as number) ^ mask;
          // Bounded work: CPU time of this process (the handler runs in it), not wall-clock time.
          const { ms, result: res } = await cpuTimeAsync(() => post(body));
          expect(ms).toBeLessThan(2000);
          expect([200, 400]).toContain(res.status);
          if (res.status === 200 && readPkiMessage(res.body).pkiStatus === 'SUCCESS') {
            const request = readPkiMessage(body);
            expect(request.verified.ok).toBe(true);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('fail/truncations and random bytes are 400 or a FAILURE CertRep', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.nat({ max: valid.length - 1 }).map((n) => valid.subarray(0, n)),
          fc.uint8Array({ maxLength: 2048 }),
        ),
        async (body) => {
          const res = await post(body);
          expect([200, 400]).toContain(res.status);
          if (res.status === 200) expect(readPkiMessage(res.body).pkiStatus).toBe('FAILURE');
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('fail/a detached pkiMessage (no content to decrypt) is a FAILURE badMessageCheck, not a 500', async () => {
    const key = clientKey();
    const body = signCms(Buffer.from('envelope'), {
      certificate: createTransientCertificate(key, 'CN=transient'),
      privateKey: key,
      detached: true,
      signedAttributes: [
        { oid: ScepOid.messageType, values: [printableString('19')] },
        { oid: ScepOid.transactionId, values: [printableString('tx-detached')] },
      ],
    });
    const res = await post(body);
    expect(res.status).toBe(200);
    const rep = readPkiMessage(res.body);
    expect([rep.pkiStatus, rep.failInfo]).toEqual(['FAILURE', 'badMessageCheck']);
  });
});
