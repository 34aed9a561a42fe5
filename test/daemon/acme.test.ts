/**
 * The daemon's ACME: `--acme-attestation-roots` read at start (default Apple's Enterprise
 * Attestation Root; refusals name the flag), and a SQLite daemon serving `/acme/` with the
 * conservative defaults: no test-01 unless asked for, and no order for an identifier Orchard did
 * not issue (rejectedIdentifier, never 401).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { attestationRootsOf } from '../../src/daemon/acme.js';
import { resolveConfig } from '../../src/daemon/config.js';
import { APPLE_ENTERPRISE_ATTESTATION_ROOT_SHA256 } from '../../src/acme/attestation-roots.js';
import { acmeTestClient } from '../support/acme-client.js';
import { spawnDaemon, type TestDaemon } from '../support/daemon.js';
import { makeCa, makeLeaf } from '../support/pki.js';

let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orchard-acme-roots-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('--acme-attestation-roots', () => {
  test('ok/without the flag the anchor is Apple Enterprise Attestation Root', async () => {
    const roots = await attestationRootsOf(resolveConfig({}, {}));
    expect(roots.map((r) => r.fingerprint256)).toEqual([APPLE_ENTERPRISE_ATTESTATION_ROOT_SHA256]);
  });

  test('ok/a PEM bundle of CA certificates replaces it', async () => {
    const [one, other] = await Promise.all([makeCa(), makeCa({ subject: 'CN=Other Root' })]);
    const file = join(dir, 'roots.pem');
    writeFileSync(file, `${one.certificate.toString()}\n${other.certificate.toString()}`);
    const roots = await attestationRootsOf(resolveConfig({ acmeAttestationRoots: file }, {}));
    expect(roots.map((r) => r.fingerprint256)).toEqual([
      one.certificate.fingerprint256,
      other.certificate.fingerprint256,
    ]);
  });

  test.each([
    ['a missing file', () => join(dir, 'absent.pem')],
    [
      'a file without a certificate',
      () => {
        const file = join(dir, 'empty.pem');
        writeFileSync(file, 'not a certificate');
        return file;
      },
    ],
  ])('fail/%s is refused naming the flag', async (_name, fileOf) => {
    const config = resolveConfig({ acmeAttestationRoots: fileOf() }, {});
    await expect(attestationRootsOf(config)).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      flag: '--acme-attestation-roots',
    });
  });

  test('fail/a certificate that is not a CA is refused naming the flag', async () => {
    const ca = await makeCa();
    const leaf = await makeLeaf(ca, { subject: 'CN=Not a CA' });
    const file = join(dir, 'leaf.pem');
    writeFileSync(file, leaf.certificate.toString());
    const config = resolveConfig({ acmeAttestationRoots: file }, {});
    await expect(attestationRootsOf(config)).rejects.toMatchObject({
      flag: '--acme-attestation-roots',
    });
  });
});

describe('a SQLite daemon serves /acme/', () => {
  let daemon: TestDaemon;

  beforeAll(async () => {
    daemon = await spawnDaemon();
  }, 90_000);

  afterAll(async () => {
    await daemon.cleanup();
  });

  test('fail/an order for an identifier Orchard did not issue is rejectedIdentifier, never 401', async () => {
    const client = await acmeTestClient(`${daemon.url}/acme/directory`);
    expect(client.directory.newOrder).toBe(`${daemon.url}/acme/new-order`);
    expect((await client.newAccount()).status).toBe(201);
    const order = await client.newOrder('not-issued-by-orchard');
    expect(order.status).toBe(400);
    expect(order.json.type).toBe('urn:ietf:params:acme:error:rejectedIdentifier');
  });
});
