/**
 * `--profile-signing-cert`/`--profile-signing-key`: the operator's identity signs what the daemon
 * sends (enrollment profiles and library profiles alike), and a key that is not the certificate's
 * stops start-up naming the flag.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyProfile } from '../../src/profile/verify.js';
import { startHarness, type Harness } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'orchard-signing-'));
const files = (name: string) => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) });

/** A self-signed RSA identity made by the real openssl, as an operator would bring one. */
function identity(name: string, cn: string) {
  const f = files(name);
  execFileSync('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30'],
    ...['-subj', `/CN=${cn}`, '-keyout', f.key, '-out', f.cert],
  ]);
  return f;
}

let h: Harness;
let operator: { cert: string; key: string };

beforeAll(async () => {
  operator = identity('operator', 'Example Corp Profile Signing');
  h = await startHarness({ profileSigningCert: operator.cert, profileSigningKey: operator.key });
}, 60_000);

afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('--profile-signing-cert', () => {
  test('ok/enrollment profiles are signed by the operator identity', async () => {
    const link = await h.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
    expect(link.status).toBe(201);
    const res = await fetch(h.daemon.url + new URL(link.body.url as string).pathname);
    expect(res.status).toBe(200);
    const signed = new Uint8Array(await res.arrayBuffer());
    const roots = [new X509Certificate(readFileSync(operator.cert))];
    const verified = verifyProfile(signed, { roots });
    expect(verified.signer.subject).toContain('Example Corp Profile Signing');
  });

  test("fail/a key that is not the certificate's stops start-up naming --profile-signing-key", async () => {
    const other = identity('other', 'Someone Else');
    await expect(
      startHarness({ profileSigningCert: operator.cert, profileSigningKey: other.key }),
    ).rejects.toMatchObject({ code: 'ERR_CONFIG', flag: '--profile-signing-key' });
  }, 60_000);

  test('fail/a file that is not PEM names --profile-signing-cert', async () => {
    await expect(
      startHarness({ profileSigningCert: operator.key, profileSigningKey: operator.key }),
    ).rejects.toMatchObject({ code: 'ERR_CONFIG', flag: '--profile-signing-cert' });
  }, 60_000);
});
