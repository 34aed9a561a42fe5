/**
 * Crypto core speed, as ratios to raw node:crypto in the same run (medians of three alternating
 * rounds):
 * - signing a 10 KB profile (RSA-2048) vs raw `crypto.sign` of the same bytes (goal 0.85), with
 *   node-forge and pkijs for comparison;
 * - verifying an Mdm-Signature-sized detached signature with the signer certificate cached vs raw
 *   `crypto.verify` with a KeyObject (goal 0.8 of raw, issue 20), with the chain, with a new
 *   certificate each call, and pkijs;
 * - issuing certificates and reading CSRs vs raw `crypto.sign` with the same key.
 */
import forge from 'node-forge';
import * as asn1js from 'asn1js';
import { createPublicKey, randomBytes, sign, verify, webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';
import {
  createCertificateAuthority,
  createCsr,
  generateKeyPairOf,
  issueCertificate,
  parseCsr,
  signCms,
  verifyCms,
} from '../src/crypto/index.js';
import { checkMdmSignature, verifyMdmSignature } from '../src/identity/mdm-signature.js';
import { createTransientCertificate } from '../src/identity/scep/client.js';
import {
  alternate,
  benchRow,
  benchSeconds,
  measure,
  median,
  type BenchOptions,
  type BenchRow,
  type Goal,
  type Rate,
} from './lib.js';

async function identity(keyType: 'rsa-2048' | 'ec-p256') {
  const ca = await createCertificateAuthority({ subject: 'CN=Bench CA', keyType: 'rsa-2048' });
  const { privateKey } = await generateKeyPairOf(keyType);
  const certificate = await issueCertificate({
    publicKey: createPublicKey(privateKey),
    subject: 'CN=bench device',
    issuer: ca,
  });
  return { certificate, privateKey, ca: ca.certificate };
}

function forgeSigner(id: Awaited<ReturnType<typeof identity>>) {
  const cert = forge.pki.certificateFromPem(id.certificate.toString());
  const key = forge.pki.privateKeyFromPem(
    id.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  );
  return (content: Buffer): void => {
    const p7 = forge.pkcs7.createSignedData();
    p7.content = forge.util.createBuffer(content.toString('binary'));
    p7.addCertificate(cert);
    p7.addSigner({
      key,
      certificate: cert,
      digestAlgorithm: forge.pki.oids.sha256 ?? '',
      authenticatedAttributes: [
        { type: forge.pki.oids.contentType ?? '', value: forge.pki.oids.data ?? '' },
        { type: forge.pki.oids.messageDigest ?? '' },
        { type: forge.pki.oids.signingTime ?? '' },
      ],
    });
    p7.sign();
    forge.asn1.toDer(p7.toAsn1());
  };
}

/** Repetitions of every measurement; the rows are their medians. */
const RUNS = 3;

/** Measures each function in {@link RUNS} alternating rounds; returns every round's rates. */
async function interleaved(fns: [string, () => unknown][], seconds: number): Promise<Rate[][]> {
  const out = await alternate(
    RUNS,
    Object.fromEntries(fns.map(([name, fn]) => [name, () => measure(name, fn, seconds)])),
  );
  return fns.map(([name]) => out[name] ?? []);
}

const opsPerSec = (rates: readonly Rate[]): number[] => rates.map((r) => r.opsPerSec);
const perCpu = (rates: readonly Rate[]): number => median(rates.map((r) => r.opsPerCpuSec));

/** A row of operations per second against a baseline's rates. */
function rateRow(
  id: string,
  what: string,
  base: { name: string; rates: readonly Rate[] },
  rates: readonly Rate[],
  goal?: Goal,
): BenchRow {
  return benchRow({
    id,
    what,
    baseline: base.name,
    baselineValues: opsPerSec(base.rates),
    values: opsPerSec(rates),
    unit: 'ops/s',
    higherIsBetter: true,
    ...(goal === undefined ? {} : { goal }),
    detail: { perCpuSecond: perCpu(rates), baselinePerCpuSecond: perCpu(base.rates) },
  });
}

function ab(buf: Uint8Array): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** pkijs over node's WebCrypto, for comparison (it is what many JavaScript MDM projects use). */
function pkijsEngine(): void {
  pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto }));
}

/** A pkijs attached RSA SignedData over `content` with signed attributes, as signCms makes. */
async function pkijsSigner(
  id: Awaited<ReturnType<typeof identity>>,
): Promise<(content: Buffer) => Promise<ArrayBuffer>> {
  const cert = pkijs.Certificate.fromBER(ab(id.certificate.raw));
  const key = await webcrypto.subtle.importKey(
    'pkcs8',
    id.privateKey.export({ format: 'der', type: 'pkcs8' }),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return async (content) => {
    const digest = await webcrypto.subtle.digest('SHA-256', content);
    const signed = new pkijs.SignedData({
      version: 1,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({
        eContentType: '1.2.840.113549.1.7.1',
        eContent: new asn1js.OctetString({ valueHex: ab(content) }),
      }),
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({
            issuer: cert.issuer,
            serialNumber: cert.serialNumber,
          }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({
            type: 0,
            attributes: [
              new pkijs.Attribute({
                type: '1.2.840.113549.1.9.3',
                values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })],
              }),
              new pkijs.Attribute({
                type: '1.2.840.113549.1.9.4',
                values: [new asn1js.OctetString({ valueHex: digest })],
              }),
            ],
          }),
        }),
      ],
      certificates: [cert],
    });
    await signed.sign(key, 0, 'SHA-256');
    return new pkijs.ContentInfo({
      contentType: '1.2.840.113549.1.7.2',
      content: signed.toSchema(true),
    })
      .toSchema()
      .toBER(false);
  };
}

/** pkijs verifying a detached SignedData over `body` (parsed from DER each call, no chain). */
async function pkijsVerify(der: Buffer, body: Buffer): Promise<void> {
  const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(ab(der)).content });
  const ok = await signed.verify({ signer: 0, data: ab(body), checkChain: false });
  if (!ok) throw new Error('pkijs did not verify');
}

/**
 * Building a certificate (RSA-2048 issuer) through the option API and for a SCEP transient
 * identity, and building and reading a CSR, as ratios to the bare RSA-2048 signature.
 */
async function building(
  rsa: Awaited<ReturnType<typeof identity>>,
  seconds: number,
): Promise<BenchRow[]> {
  const { publicKey } = await generateKeyPairOf('ec-p256');
  const issuer = await createCertificateAuthority({ subject: 'CN=Bench CA', keyType: 'rsa-2048' });
  const tbs = randomBytes(700);
  const csr = createCsr({ subject: 'CN=bench,O=Orchard', privateKey: rsa.privateKey });
  const [raw, issued, parsed] = (await interleaved(
    [
      ['raw crypto.sign RSA-2048 sha256 (700 B)', () => sign('sha256', tbs, issuer.privateKey)],
      [
        'issueCertificate, RSA-2048 issuer',
        () => issueCertificate({ publicKey, subject: 'CN=bench device', issuer }),
      ],
      ['parseCsr RSA-2048 (decode key + verify)', () => parseCsr(csr)],
    ],
    seconds,
  )) as [Rate[], Rate[], Rate[]];
  const base = { name: 'raw crypto.sign RSA-2048, 700 B', rates: raw };
  return [
    rateRow('crypto.certificate.issue', 'issueCertificate, RSA-2048 issuer', base, issued),
    rateRow('crypto.csr.parse', 'parseCsr RSA-2048 (decode key + verify)', base, parsed),
  ];
}

/** Signing a 10 KB profile: ours, node-forge and pkijs against raw crypto.sign. */
async function signing(
  rsa: Awaited<ReturnType<typeof identity>>,
  seconds: number,
): Promise<BenchRow[]> {
  const profile = randomBytes(10 * 1024);
  const forgeSign = forgeSigner(rsa);
  const pkijsSign = await pkijsSigner(rsa);
  const [rawSign, ours, forged, viaPkijs] = (await interleaved(
    [
      ['raw', () => sign('sha256', profile, rsa.privateKey)],
      [
        'ours',
        () => signCms(profile, { certificate: rsa.certificate, privateKey: rsa.privateKey }),
      ],
      [
        'forge',
        () => {
          forgeSign(profile);
        },
      ],
      ['pkijs', () => pkijsSign(profile)],
    ],
    seconds,
  )) as [Rate[], Rate[], Rate[], Rate[]];
  const base = { name: 'raw crypto.sign RSA-2048 sha256, 10 KB', rates: rawSign };
  return [
    rateRow(
      'crypto.profile.sign',
      'profile signing: signCms RSA-2048, 10 KB, attached',
      base,
      ours,
      { ratioAtLeast: 0.85 },
    ),
    rateRow('crypto.profile.sign.forge', 'profile signing: node-forge pkcs7, 10 KB', base, forged),
    rateRow(
      'crypto.profile.sign.pkijs',
      'profile signing: pkijs (WebCrypto), 10 KB',
      base,
      viaPkijs,
    ),
  ];
}

/**
 * Mdm-Signature verification of a 200-byte body against raw crypto.verify with a KeyObject:
 * with the signer certificate cached (goal 0.8 of raw), with the chain to the root as the daemon
 * checks it, with a new certificate each call, and pkijs.
 */
async function verification(
  keyType: 'rsa-2048' | 'ec-p256',
  id: Awaited<ReturnType<typeof identity>>,
  seconds: number,
): Promise<BenchRow[]> {
  const body = randomBytes(200);
  const der = signCms(body, {
    certificate: id.certificate,
    privateKey: id.privateKey,
    detached: true,
  });
  const header = der.toString('base64');
  const rawSig = sign('sha256', body, id.privateKey);
  const publicKey = id.certificate.publicKey;
  const roots = [id.ca];
  // 2,000 messages, each signed with its own certificate: more than the certificate cache's
  // 1,024 entries, so every call reads a certificate and builds its key (a device's first
  // check-in, or a SCEP transient certificate).
  const fresh = Array.from({ length: 2000 }, (_, i) => {
    const certificate = createTransientCertificate(id.privateKey, `CN=bench device ${String(i)}`);
    return signCms(body, { certificate, privateKey: id.privateKey, detached: true });
  });
  let next = 0;
  const [raw, header1, chained, uncached, viaPkijs] = (await interleaved(
    [
      ['raw', () => verify('sha256', body, publicKey, rawSig)],
      ['header', () => verifyMdmSignature(header, body)],
      ['chained', () => verifyMdmSignature(header, body, { roots })],
      ['uncached', () => verifyCms(fresh[next++ % fresh.length] as Buffer, { content: body })],
      ['pkijs', () => pkijsVerify(der, body)],
    ],
    seconds,
  )) as [Rate[], Rate[], Rate[], Rate[], Rate[]];
  const base = { name: `raw crypto.verify ${keyType}, KeyObject`, rates: raw };
  const k = keyType === 'rsa-2048' ? 'rsa' : 'ec';
  return [
    rateRow(
      `crypto.mdm-signature.${k}`,
      `Mdm-Signature verification ${keyType}, certificate cached`,
      base,
      header1,
      { ratioAtLeast: 0.8 },
    ),
    rateRow(
      `crypto.mdm-signature.${k}.chain`,
      `Mdm-Signature verification ${keyType} + chain to the root`,
      base,
      chained,
    ),
    rateRow(
      `crypto.mdm-signature.${k}.new-cert`,
      `CMS verification ${keyType}, a new certificate each call`,
      base,
      uncached,
    ),
    rateRow(
      `crypto.mdm-signature.${k}.pkijs`,
      `pkijs SignedData.verify ${keyType} (WebCrypto)`,
      base,
      viaPkijs,
    ),
  ];
}

/**
 * A fleet's check-ins: `checkMdmSignature` with the chain to the root, each call from the next of
 * `devices` RSA-2048 device identities in turn (each its own certificate, as SCEP issues them),
 * against the same call from one device. Within `--identity-cache` (16,384 by default) each
 * device's certificate is parsed and its chain proven once; the goal is that a fleet costs about
 * what one device does.
 */
async function fleet(devices: number, seconds: number): Promise<BenchRow> {
  const ca = await createCertificateAuthority({ subject: 'CN=Bench fleet CA', keyType: 'ec-p256' });
  const { privateKey } = await generateKeyPairOf('rsa-2048');
  const publicKey = createPublicKey(privateKey);
  const body = randomBytes(300);
  const headers: string[] = [];
  for (let i = 0; i < devices; i++) {
    const certificate = await issueCertificate({
      publicKey,
      subject: `CN=bench device ${String(i)}`,
      issuer: ca,
    });
    headers.push(signCms(body, { certificate, privateKey, detached: true }).toString('base64'));
  }
  const options = { roots: [ca.certificate] };
  let next = 0;
  // One round over the fleet first: the measurement is of check-ins, not of first enrollments.
  for (const h of headers) checkMdmSignature(h, body, options);
  const [one, many] = (await interleaved(
    [
      ['one device', () => checkMdmSignature(headers[0] as string, body, options)],
      ['fleet', () => checkMdmSignature(headers[next++ % devices] as string, body, options)],
    ],
    seconds,
  )) as [Rate[], Rate[]];
  return rateRow(
    'crypto.mdm-signature.fleet',
    `Mdm-Signature check + chain, ${String(devices)} RSA-2048 devices in turn`,
    { name: 'the same call from one device', rates: one },
    many,
    { ratioAtLeast: 0.8 },
  );
}

/** The crypto rows: profile signing, Mdm-Signature verification, certificate building. */
export async function rows(options: BenchOptions): Promise<BenchRow[]> {
  pkijsEngine();
  const seconds = Math.max(0.2, (benchSeconds / 3) * Math.min(1, options.scale * 2));
  const rsa = await identity('rsa-2048');
  const ec = await identity('ec-p256');
  return [
    ...(await signing(rsa, seconds)),
    ...(await verification('rsa-2048', rsa, seconds)),
    ...(await verification('ec-p256', ec, seconds)),
    ...(await building(rsa, seconds)),
    await fleet(Math.max(2000, Math.round(5000 * Math.min(1, options.scale))), seconds),
  ];
}
