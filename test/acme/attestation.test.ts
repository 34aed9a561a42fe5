/**
 * Apple's `apple` attestation format (device-attest-01): the verifier against a test attestation
 * CA shaped like Apple's (root → intermediate → leaf with the DevicePropertiesAttestation
 * extensions), directly and through the ACME server over HTTP: a valid attestation, wrong
 * freshness, wrong serial/UDID, an untrusted root, expired and not-yet-valid certificates, the
 * CSR key differing from the attested key at finalize, and junk CBOR (a typed refusal, never 5xx).
 */
import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import {
  createAppleAttestationVerifier,
  identifierIsAttestedDevice,
  verifyDeviceAttestation,
  type DeviceAttestationInput,
} from '../../src/acme/attestation.js';
import { encodeCbor } from '../../src/acme/attestation-cbor.js';
import {
  APPLE_ENTERPRISE_ATTESTATION_ROOT_SHA256,
  appleAttestationRoots,
  attestationRootsFromPem,
} from '../../src/acme/attestation-roots.js';
import { createCsr } from '../../src/crypto/csr.js';
import { AcmeError } from '../../src/errors.js';
import { acmeTestClient } from '../support/acme-client.js';
import {
  attestationCa,
  type AttestationCa,
  type AttestOptions,
} from '../support/attestation-ca.js';
import { startAcme, type AcmeFixture } from './fixture.js';

const ERR = 'urn:ietf:params:acme:error:';
const HOUR = 3_600_000;

let ca: AttestationCa;
let other: AttestationCa;
let deviceKey: KeyObject;
beforeAll(async () => {
  [ca, other] = await Promise.all([attestationCa(), attestationCa()]);
  deviceKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
});

/** The DER SubjectPublicKeyInfo of a key (either half). */
function spki(k: KeyObject): Buffer {
  return (k.type === 'private' ? createPublicKey(k) : k).export({ format: 'der', type: 'spki' });
}

const TOKEN = 'tok-0123456789abcdefghij';

function input(attObj: Uint8Array, over: Partial<DeviceAttestationInput> = {}) {
  return {
    attObj,
    token: TOKEN,
    identifier: 'UDID-0001',
    trustAnchors: [ca.root.certificate],
    now: new Date(),
    ...over,
  };
}

async function refusal(p: Promise<unknown>): Promise<AcmeError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AcmeError);
  const acme = error as AcmeError;
  expect(acme.code).toBe('ERR_ACME_BAD_ATTESTATION');
  expect(acme.status).toBe(400);
  return acme;
}

const device = { token: TOKEN, serial: 'C02SERIAL01', udid: 'UDID-0001' };
const attest = (over: Partial<AttestOptions> = {}) =>
  ca.attest({ ...device, key: deviceKey, ...over });

describe('the apple format verifier', () => {
  test.each(['raw', 'der'] as const)(
    'ok/a valid attestation (%s extension values) names the leaf key, serial and UDID',
    async (encoding) => {
      const result = await verifyDeviceAttestation(input(await attest({ encoding })));
      expect(result.publicKey.type).toBe('public');
      expect(spki(result.publicKey).equals(spki(deviceKey))).toBe(true);
      expect(result).toMatchObject({ serial: 'C02SERIAL01', udid: 'UDID-0001' });
    },
  );

  test('ok/the identifier may be the serial; a P-384 key is attested too', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const result = await verifyDeviceAttestation(
      input(await attest({ key: p384 }), { identifier: 'C02SERIAL01' }),
    );
    expect(result.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });

  test('fail/a freshness code for another token, or none, is refused', async () => {
    const e1 = await refusal(verifyDeviceAttestation(input(await attest({ token: 'other' }))));
    expect(e1.message).toMatch(/freshness/);
    const e2 = await refusal(verifyDeviceAttestation(input(await attest({ freshness: null }))));
    expect(e2.message).toMatch(/freshness/);
    await refusal(verifyDeviceAttestation(input(await attest({ freshness: randomBytes(32) }))));
  });

  test('fail/an identifier that is neither the attested serial nor the UDID is refused', async () => {
    const att = await attest();
    for (const identifier of ['UDID-0002', 'C02SERIAL02', 'udid-0001', 'UDID-0001 ', ''])
      expect((await refusal(verifyDeviceAttestation(input(att, { identifier })))).message).toMatch(
        /does not match the order identifier/,
      );
    // An attestation without serial and UDID (User Enrollment) matches no identifier.
    await refusal(
      verifyDeviceAttestation(input(await attest({ serial: undefined, udid: undefined }))),
    );
  });

  test('ok/a custom identifier check sees the attested device and decides', async () => {
    const seen: unknown[] = [];
    const verify = createAppleAttestationVerifier({
      checkIdentifier: (identifier, dev) => {
        seen.push({ identifier, ...dev });
        return identifier === 'opaque-1' && dev.udid === 'UDID-0001';
      },
    });
    const att = await attest();
    await verify(input(att, { identifier: 'opaque-1' }));
    await refusal(verify(input(att, { identifier: 'opaque-2' })));
    expect(seen[0]).toEqual({ identifier: 'opaque-1', serial: 'C02SERIAL01', udid: 'UDID-0001' });
  });

  test('fail/a chain to an untrusted root, a missing intermediate, or no anchors is refused', async () => {
    const foreign = await other.attest({ ...device, key: deviceKey });
    expect((await refusal(verifyDeviceAttestation(input(foreign)))).message).toMatch(
      /trusted root/,
    );
    await refusal(verifyDeviceAttestation(input(await attest({ omitIntermediate: true }))));
    await refusal(verifyDeviceAttestation(input(await attest(), { trustAnchors: [] })));
    // Apple's real root does not anchor the test CA.
    await refusal(
      verifyDeviceAttestation(input(await attest(), { trustAnchors: appleAttestationRoots() })),
    );
    // A leaf signed straight by another root, even with that root's intermediate-less x5c.
    await refusal(verifyDeviceAttestation(input(await attest({ issuer: other.root }))));
  });

  test('fail/an expired or not yet valid leaf is refused; so is a valid one checked past the leaf expiry', async () => {
    const expired = await attest({
      notBefore: new Date(Date.now() - 48 * HOUR),
      notAfter: new Date(Date.now() - HOUR),
    });
    expect((await refusal(verifyDeviceAttestation(input(expired)))).message).toMatch(/expired/);
    const future = await attest({ notBefore: new Date(Date.now() + HOUR) });
    expect((await refusal(verifyDeviceAttestation(input(future)))).message).toMatch(
      /not valid yet/,
    );
    const valid = await attest();
    await refusal(
      verifyDeviceAttestation(input(valid, { now: new Date(Date.now() + 30 * 24 * HOUR) })),
    );
  });

  test('fail/a leaf that is a CA, or a key the Secure Enclave cannot hold, is refused', async () => {
    const asLeaf = encodeCbor(
      new Map<string, unknown>([
        ['fmt', 'apple'],
        ['attStmt', new Map([['x5c', [ca.intermediate.certificate.raw]]])],
      ]),
    );
    expect((await refusal(verifyDeviceAttestation(input(asLeaf)))).message).toMatch(/CA/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(
      (await refusal(verifyDeviceAttestation(input(await attest({ key: rsa }))))).message,
    ).toMatch(/P-256 or P-384/);
  });

  test('fail/junk and misshapen attestation objects: a typed refusal each', async () => {
    const leaf = await ca.leaf({ ...device, key: deviceKey });
    const shapes: unknown[] = [
      'apple',
      [],
      new Map([['fmt', 'packed']]),
      new Map([['fmt', 'apple']]),
      new Map<string, unknown>([
        ['fmt', 'apple'],
        ['attStmt', []],
      ]),
      new Map<string, unknown>([
        ['fmt', 'apple'],
        ['attStmt', new Map([['x5c', []]])],
      ]),
      new Map<string, unknown>([
        ['fmt', 'apple'],
        ['attStmt', new Map([['x5c', ['text']]])],
      ]),
      new Map<string, unknown>([
        ['fmt', 'apple'],
        ['attStmt', new Map([['x5c', [randomBytes(64)]]])],
      ]),
      new Map<string, unknown>([
        ['fmt', 'apple'],
        ['attStmt', new Map([['x5c', Array(5).fill(leaf)]])],
      ]),
    ];
    for (const shape of shapes) await refusal(verifyDeviceAttestation(input(encodeCbor(shape))));
    for (const junk of [
      Buffer.alloc(0),
      Buffer.from('{}'),
      Buffer.from([0xbf, 0x63, 0x66, 0x6d, 0x74, 0xff]), // indefinite map
      Buffer.from([0xc0, 0x60]), // a tag
      Buffer.from([0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // huge length
      Buffer.alloc(40 * 1024, 0x81), // deep and too large
      Buffer.concat([await attest(), Buffer.from([0])]), // trailing byte
    ])
      await refusal(verifyDeviceAttestation(input(junk)));
  });

  test('ok/random bytes and mutations of a valid object only ever give the typed refusal', async () => {
    const valid = await attest();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          fc
            .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 4,
            })
            .map((edits) => {
              const copy = Buffer.from(valid);
              for (const [at, b] of edits) copy[at] = b;
              return copy;
            }),
          fc.nat(valid.length - 1).map((n) => valid.subarray(0, n)),
        ),
        async (bytes) => {
          const outcome = await verifyDeviceAttestation(input(bytes)).then(
            () => 'verified',
            (e: unknown) => (e instanceof AcmeError ? e.code : 'untyped'),
          );
          // A mutation may land in an unchecked byte (authData, the sepOS version text).
          expect(['ERR_ACME_BAD_ATTESTATION', 'verified']).toContain(outcome);
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 150) },
    );
  });

  test('ok/identifierIsAttestedDevice compares exactly', () => {
    expect(identifierIsAttestedDevice('A', { udid: 'A' })).toBe(true);
    expect(identifierIsAttestedDevice('A', { serial: 'A' })).toBe(true);
    expect(identifierIsAttestedDevice('A', { udid: 'AB', serial: 'a' })).toBe(false);
    expect(identifierIsAttestedDevice('A', {})).toBe(false);
  });
});

describe('trust anchors', () => {
  test("ok/Apple's Enterprise Attestation Root is bundled, self-signed, a P-384 CA", () => {
    const [root] = appleAttestationRoots();
    expect(root?.fingerprint256).toBe(APPLE_ENTERPRISE_ATTESTATION_ROOT_SHA256);
    expect(root?.subject).toContain('CN=Apple Enterprise Attestation Root CA');
    expect(root?.ca).toBe(true);
    expect(root?.verify(root.publicKey)).toBe(true);
    expect(root?.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });

  test('ok/anchors load from PEM; fail/no certificate or a non-CA is refused', async () => {
    const pem = `${ca.root.certificate.toString()}${other.root.certificate.toString()}`;
    expect(attestationRootsFromPem(pem).map((c) => c.fingerprint256)).toEqual([
      ca.root.certificate.fingerprint256,
      other.root.certificate.fingerprint256,
    ]);
    expect(() => attestationRootsFromPem('')).toThrow(TypeError);
    const leaf = new X509Certificate(await ca.leaf({ ...device, key: deviceKey }));
    expect(() => attestationRootsFromPem(leaf.toString())).toThrow(/not a CA/);
  });
});

describe('device-attest-01 through the ACME server', () => {
  let fx: AcmeFixture;
  beforeAll(async () => {
    const verify = createAppleAttestationVerifier();
    fx = await startAcme({
      testChallenge: false,
      // The fixture has no anchor option: the test CA's root is this server's one anchor.
      verifyAttestation: (i) => verify({ ...i, trustAnchors: [ca.root.certificate] }),
    });
  });
  afterAll(async () => {
    await fx.close();
  });

  async function ordered(identifier: string) {
    const client = await acmeTestClient(fx.directoryUrl);
    await client.newAccount();
    const order = await client.newOrder(identifier);
    const authz = await client.post((order.json.authorizations as string[])[0] ?? '', '');
    const chall = (authz.json.challenges as { type: string; url: string; token: string }[])[0];
    return {
      client,
      chall: chall ?? { type: '', url: '', token: '' },
      orderUrl: order.headers.get('location') ?? '',
    };
  }

  const csr = (key: KeyObject) =>
    createCsr({ subject: 'CN=acme-device,O=Orchard', privateKey: key }).toString('base64url');

  test('ok/a device attests its key, finalizes with it and gets the certificate', async () => {
    const udid = `client-UDID-${randomBytes(4).toString('hex')}`;
    const { client, chall, orderUrl } = await ordered(udid);
    expect(chall.type).toBe('device-attest-01');
    const attObj = (
      await ca.attest({ key: deviceKey, token: chall.token, serial: 'C02X', udid })
    ).toString('base64url');
    expect((await client.post(chall.url, { attObj })).json.status).toBe('valid');
    const order = await client.post(orderUrl, '');
    expect(order.json.status).toBe('ready');
    const fin = await client.post(order.json.finalize as string, { csr: csr(deviceKey) });
    expect(fin.json.status).toBe('valid');
    const issued = fx.issued.at(-1);
    expect(issued?.authorizations[0]).toMatchObject({ attestedSerial: 'C02X', attestedUdid: udid });
    const cert = new X509Certificate(issued?.certificate.der ?? Buffer.alloc(0));
    expect(spki(cert.publicKey).equals(spki(deviceKey))).toBe(true);
  });

  test('fail/a CSR whose key is not the attested key: badCSR at finalize', async () => {
    const udid = `client-UDID-${randomBytes(4).toString('hex')}`;
    const { client, chall, orderUrl } = await ordered(udid);
    const attObj = (await ca.attest({ key: deviceKey, token: chall.token, udid })).toString(
      'base64url',
    );
    expect((await client.post(chall.url, { attObj })).json.status).toBe('valid');
    const fin = (await client.post(orderUrl, '')).json.finalize as string;
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const res = await client.post(fin, { csr: csr(stranger) });
    expect(res.status).toBe(400);
    expect(res.json.type).toBe(`${ERR}badCSR`);
    expect((await client.post(orderUrl, '')).json.status).toBe('ready');
  });

  test("fail/another challenge's attestation (replayed freshness), a wrong UDID, junk CBOR: invalid, never 5xx", async () => {
    const udid = `client-UDID-${randomBytes(4).toString('hex')}`;
    const first = await ordered(udid);
    const replayed = (await ca.attest({ key: deviceKey, token: first.chall.token, udid })).toString(
      'base64url',
    );
    const cases = [
      () => Promise.resolve(replayed),
      async (token: string) =>
        (await ca.attest({ key: deviceKey, token, udid: `${udid}-other` })).toString('base64url'),
      () => Promise.resolve(randomBytes(200).toString('base64url')),
      async (token: string) =>
        (await other.attest({ key: deviceKey, token, udid })).toString('base64url'),
    ];
    for (const make of cases) {
      const { client, chall, orderUrl } = await ordered(udid);
      const res = await client.post(chall.url, { attObj: await make(chall.token) });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        status: 'invalid',
        error: { type: `${ERR}badAttestationStatement`, status: 400 },
      });
      expect((await client.post(orderUrl, '')).json.status).toBe('invalid');
    }
    expect(fx.logger.errors).toEqual([]);
  });
});
