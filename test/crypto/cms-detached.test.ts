import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { createHash, sign, type KeyObject, type X509Certificate } from 'node:crypto';
import { certInfo } from '../../src/crypto/cert-info.js';
import { readDetachedSignedData } from '../../src/crypto/cms-detached.js';
import { parseSignedData } from '../../src/crypto/cms-parse.js';
import { verifyCms } from '../../src/crypto/cms-verify.js';
import {
  algorithm,
  integer,
  nullValue,
  octetString,
  oid,
  sequence,
  setOf,
  time,
  tlv,
} from '../../src/crypto/der-write.js';
import { Oid } from '../../src/crypto/oids.js';
import { CryptoError } from '../../src/errors.js';
import { checkMdmSignature } from '../../src/identity/mdm-signature.js';
import { makeLeaf, testPki, type TestIdentity } from '../support/pki.js';

const pki = await testPki();
const body = Buffer.from('<plist><dict><key>MessageType</key><string>Idle</string></dict></plist>');

/** What to build; every field defaults to the shape devices send. */
interface Shape {
  id?: TestIdentity;
  content?: Buffer;
  /** BER indefinite lengths on every outer layer. */
  ber?: boolean;
  attrs?: Buffer[];
  digestAlg?: Buffer;
  sigAlg?: Buffer;
  certs?: X509Certificate[];
  sid?: Buffer;
  signerKey?: KeyObject;
  /** The bytes signed, given the DER SET of the signed attributes. */
  signed?: (set: Buffer) => Buffer;
  unsigned?: Buffer[];
  encap?: Buffer;
  signerInfos?: (signerInfo: Buffer) => Buffer[];
}

const attr = (type: string, ...values: Buffer[]): Buffer => sequence(oid(type), setOf(...values));
const digestOf = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const standardAttrs = (content: Buffer): Buffer[] => [
  attr(Oid.contentType, oid(Oid.data)),
  attr(Oid.signingTime, time(new Date('2026-01-02T03:04:05Z'))),
  attr(Oid.messageDigest, octetString(digestOf(content))),
];

function build(shape: Shape = {}): Buffer {
  const id = shape.id ?? pki.rsaLeaf;
  const info = certInfo(id.certificate);
  const cons = (tag: number, ...parts: Buffer[]): Buffer =>
    shape.ber === true
      ? Buffer.concat([Buffer.from([tag, 0x80]), ...parts, Buffer.from([0, 0])])
      : tlv(tag, ...parts);
  const set = setOf(...(shape.attrs ?? standardAttrs(shape.content ?? body)));
  const key = shape.signerKey ?? id.privateKey;
  const signature = sign('sha256', shape.signed?.(set) ?? set, key);
  const implicit = Buffer.from(set);
  implicit[0] = 0xa0;
  const ec = key.asymmetricKeyType === 'ec';
  const signerInfo = cons(
    0x30,
    integer(1),
    shape.sid ?? cons(0x30, info.issuer, tlv(0x02, info.serial)),
    shape.digestAlg ?? algorithm(Oid.sha256, nullValue()),
    implicit,
    shape.sigAlg ??
      (ec ? algorithm(Oid.ecdsaWithSha256) : algorithm(Oid.rsaEncryption, nullValue())),
    octetString(signature),
    ...(shape.unsigned === undefined ? [] : [tlv(0xa1, ...shape.unsigned)]),
  );
  const signedData = cons(
    0x30,
    integer(1),
    setOf(algorithm(Oid.sha256, nullValue())),
    shape.encap ?? cons(0x30, oid(Oid.data)),
    cons(0xa0, ...(shape.certs ?? [id.certificate]).map((c) => c.raw)),
    cons(0x31, ...(shape.signerInfos?.(signerInfo) ?? [signerInfo])),
  );
  return cons(0x30, oid(Oid.signedData), cons(0xa0, signedData));
}

/** How a verification ended: the signer's fingerprint, or the error's code and message. */
function outcome(fn: () => X509Certificate): string {
  try {
    return `ok ${fn().fingerprint256}`;
  } catch (error) {
    if (error instanceof CryptoError) return `${error.code} ${error.message}`;
    throw error;
  }
}

const ours = (der: Buffer, content: Uint8Array = body): string =>
  outcome(() => checkMdmSignature(der.toString('base64'), content));
const full = (der: Buffer, content: Uint8Array = body): string =>
  outcome(() => verifyCms(der, { content }).signer);

describe('readDetachedSignedData', () => {
  test.each([
    ['RSA, DER', {}],
    ['RSA, BER indefinite lengths', { ber: true }],
    ['ECDSA P-256', { id: pki.ecLeaf }],
    ['ECDSA P-256, BER', { id: pki.ecLeaf, ber: true }],
    ['sha256WithRSAEncryption', { sigAlg: algorithm(Oid.sha256WithRsa, nullValue()) }],
    ['digest algorithm without NULL', { digestAlg: algorithm(Oid.sha256) }],
  ] as [string, Shape][])('ok/%s is read and verifies as the full path does', (_n, shape) => {
    const der = build(shape);
    expect(readDetachedSignedData(der)).toBeDefined();
    const result = ours(der);
    expect(result).toBe(`ok ${(shape.id ?? pki.rsaLeaf).certificate.fingerprint256}`);
    expect(result).toBe(full(der));
  });

  test('ok/subjectKeyIdentifier signer id', () => {
    const ski = certInfo(pki.rsaLeaf.certificate).subjectKeyId;
    expect(ski).toBeDefined();
    const der = build({ sid: tlv(0x80, ski ?? Buffer.alloc(0)) });
    expect(readDetachedSignedData(der)?.byKeyId).toBe(true);
    expect(ours(der)).toBe(`ok ${pki.rsaLeaf.certificate.fingerprint256}`);
  });

  test.each([
    ['attached content', { encap: sequence(oid(Oid.data), tlv(0xa0, octetString(body))) }],
    ['two signers', { signerInfos: (si: Buffer) => [si, si] }],
    ['unsigned attributes', { unsigned: [attr(Oid.signingTime, time(new Date()))] }],
    ['SHA-1 digest algorithm', { digestAlg: algorithm(Oid.sha1) }],
    ['no signed attributes', { attrs: [] }],
  ] as [string, Shape][])('ok/%s is left to the full path', (_n, shape) => {
    const der = build(shape);
    expect(readDetachedSignedData(der)).toBeUndefined();
    expect(ours(der)).toBe(full(der));
  });
});

describe('checkMdmSignature fast path refuses what the full path refuses', () => {
  const other = body.subarray(0, -1);
  const wrongType = attr(Oid.contentType, oid(Oid.signedData));
  const mdOf = (b: Buffer): Buffer => attr(Oid.messageDigest, octetString(digestOf(b)));
  const typeAttr = attr(Oid.contentType, oid(Oid.data));
  const cases: [string, Shape, Uint8Array?][] = [
    ['fail/tampered body', {}, Buffer.concat([body, Buffer.from(' ')])],
    ['fail/signature over another body', { content: other }],
    [
      'fail/tampered attribute (signed time changed after signing)',
      { signed: (set) => Buffer.concat([set.subarray(0, -1), Buffer.from([0])]) },
    ],
    [
      'fail/signature over the [0] IMPLICIT bytes, not the SET',
      { signed: (s) => Buffer.from([0xa0, ...s.subarray(1)]) },
    ],
    [
      'fail/signed by another key (the certificate of another device)',
      { signerKey: pki.stranger.privateKey },
    ],
    ['fail/signer id of a certificate not embedded', { certs: [pki.stranger.certificate] }],
    [
      'fail/wrong digest algorithm (SHA-1 message digest)',
      {
        attrs: [
          typeAttr,
          attr(Oid.messageDigest, octetString(createHash('sha1').update(body).digest())),
        ],
      },
    ],
    ['fail/unknown digest algorithm', { digestAlg: algorithm('1.2.840.113549.2.5', nullValue()) }],
    ['fail/duplicate messageDigest', { attrs: [typeAttr, mdOf(body), mdOf(other)] }],
    ['fail/duplicate contentType', { attrs: [typeAttr, typeAttr, mdOf(body)] }],
    ['fail/no messageDigest', { attrs: [typeAttr] }],
    ['fail/no contentType', { attrs: [mdOf(body)] }],
    ['fail/contentType is not the content', { attrs: [wrongType, mdOf(body)] }],
    [
      'fail/two messageDigest values',
      {
        attrs: [
          typeAttr,
          sequence(
            oid(Oid.messageDigest),
            setOf(octetString(digestOf(body)), octetString(digestOf(other))),
          ),
        ],
      },
    ],
    [
      'fail/messageDigest only among unsigned attributes',
      { attrs: [typeAttr, attr(Oid.signingTime, time(new Date()))], unsigned: [mdOf(body)] },
    ],
    ['fail/ECDSA algorithm for an RSA key', { sigAlg: algorithm(Oid.ecdsaWithSha256) }],
    [
      'fail/malformed attribute type OID',
      { attrs: [typeAttr, mdOf(body), sequence(tlv(0x06, Buffer.from([0x2a, 0x86])), setOf())] },
    ],
  ];
  test.each(cases.map(([name, shape, content]) => ({ name, shape, content })))(
    '$name',
    ({ shape, content }) => {
      const der = build(shape);
      const result = ours(der, content ?? body);
      expect(result).not.toMatch(/^ok /);
      expect(result).toBe(full(der, content ?? body));
    },
  );

  test('fail/truncated DER and trailing bytes, DER and BER', () => {
    for (const der of [build(), build({ ber: true })]) {
      for (let n = 1; n < der.length; n++) {
        const cut = der.subarray(0, n);
        expect(ours(cut)).toBe(full(cut));
        expect(ours(cut)).not.toMatch(/^ok /);
      }
      for (const extra of [[0], [0, 0], [0x30, 0]]) {
        const longer = Buffer.concat([der, Buffer.from(extra)]);
        expect(ours(longer)).not.toMatch(/^ok /);
        expect(ours(longer)).toBe(full(longer));
      }
    }
  });

  test('fail/every single-octet change ends as the full path ends', () => {
    let accepted = 0;
    for (const der of [build(), build({ ber: true, id: pki.ecLeaf })]) {
      for (let i = 0; i < der.length; i++) {
        for (const change of [(b: number) => b ^ 0x01, (b: number) => b ^ 0x80, () => 0]) {
          const copy = Buffer.from(der);
          copy[i] = change(copy[i] as number);
          if (copy.equals(der)) continue;
          if (readDetachedSignedData(copy) !== undefined) accepted++;
          expect(`${String(i)}: ${ours(copy)}`).toBe(`${String(i)}: ${full(copy)}`);
        }
      }
    }
    expect(accepted).toBeGreaterThan(1000); // the fast reader saw most of the mutants
  });

  test('ok/chain and expiry are still checked on the fast path', async () => {
    const old = await makeLeaf(pki.rsaCa, {
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const check = (id: TestIdentity, options: Parameters<typeof checkMdmSignature>[2]): string =>
      outcome(() => checkMdmSignature(build({ id }).toString('base64'), body, options));
    const later = new Date(Date.now() + 800 * 86_400_000);
    expect(check(pki.rsaLeaf, { roots: [pki.rsaCa.certificate] })).toMatch(/^ok /);
    expect(check(old, { roots: [pki.rsaCa.certificate] })).toMatch(/^ERR_CERT_EXPIRED/);
    expect(check(pki.rsaLeaf, { roots: [pki.ecCa.certificate] })).toMatch(/^ERR_CERT_UNTRUSTED/);
    expect(check(pki.stranger, { roots: [pki.rsaCa.certificate] })).toMatch(/^ERR_CERT_UNTRUSTED/);
    expect(check(pki.rsaLeaf, { at: later })).toMatch(/^ERR_CERT_EXPIRED/);
  });

  test('ok/consecutive headers do not see each other (scratch buffer), large ones too', () => {
    const a = build();
    const b = build({ id: pki.ecLeaf });
    const big = build({
      attrs: [...standardAttrs(body), attr('1.2.3.4', octetString(Buffer.alloc(20_000)))],
    });
    for (let i = 0; i < 3; i++) {
      expect(ours(a)).toBe(`ok ${pki.rsaLeaf.certificate.fingerprint256}`);
      expect(ours(b)).toBe(`ok ${pki.ecLeaf.certificate.fingerprint256}`);
      expect(ours(big)).toBe(`ok ${pki.rsaLeaf.certificate.fingerprint256}`);
      expect(ours(a, other)).toBe(full(a, other));
    }
  });

  test('ok/base64 with line breaks is still accepted, other characters are not', () => {
    const text = build().toString('base64');
    const wrapped = text.replace(/(.{64})/g, '$1\r\n');
    expect(outcome(() => checkMdmSignature(wrapped, body))).toMatch(/^ok /);
    expect(outcome(() => checkMdmSignature(`${text.slice(0, 10)}-${text.slice(11)}`, body))).toBe(
      'ERR_CMS_FORMAT Mdm-Signature is not base64',
    );
  });
});

describe('Mdm-Signature header text', () => {
  const text = build().toString('base64');
  const signer = `ok ${pki.rsaLeaf.certificate.fingerprint256}`;
  const refused = 'ERR_CMS_FORMAT Mdm-Signature is not base64';
  const check = (header: string): string => outcome(() => checkMdmSignature(header, body));
  /** The pattern the header must match (the definition the fast check stands in for). */
  const pattern = /^[A-Za-z0-9+/\r\n]+={0,2}$/;

  test.each([
    ['a character node reads as its low octet (U+0151 for Q)', 'Q', '\u0151'],
    ['a character node reads as its low octet (U+0141 for A)', 'A', '\u0141'],
    ['a base64url character', '+', '-'],
    ['a base64url character', '/', '_'],
    ['a Latin-1 letter', 'A', '\u00c1'],
    ['a space', 'A', ' '],
    ['a NUL', 'A', '\u0000'],
  ])('fail/%s is refused though node decodes around it', (_n, from, to) => {
    const at = text.indexOf(from, 100);
    expect(at).toBeGreaterThan(0);
    expect(check(text.slice(0, at) + to + text.slice(at + 1))).toBe(refused);
  });

  test('ok/the canonical text and padding variants end as the pattern says', () => {
    expect(check(text)).toBe(signer);
    expect(check(`=${text}`)).toBe(refused);
    expect(check(`${text.slice(0, -4)}====`)).toBe(refused);
  });

  test('ok/any edit the pattern refuses is refused (property)', () => {
    const alphabet = [
      'A',
      'z',
      '0',
      '+',
      '/',
      '=',
      '-',
      '_',
      ' ',
      '\r\n',
      '\t',
      '\u00ff',
      '\u0151',
      '.',
    ];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(text.length), fc.nat(2), fc.constantFrom(...alphabet)), {
          minLength: 1,
          maxLength: 3,
        }),
        (edits) => {
          let t = text;
          for (const [at, kind, c] of edits) {
            const i = at % (t.length + 1);
            t = kind === 0 ? t.slice(0, i) + c + t.slice(i) : t.slice(0, i) + c + t.slice(i + 1);
          }
          const result = check(t);
          if (!pattern.test(t.trim())) expect(result).toBe(refused);
          else expect(result).not.toBe(refused);
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    );
  });
});

describe('readDetachedSignedData against parseSignedData (property)', () => {
  const extraAttr = fc
    .tuple(
      fc.constantFrom('1.2.3.4', '1.2.840.113549.1.9.5', '2.5.4.3'),
      fc.uint8Array({ maxLength: 40 }),
    )
    .map(([type, value]) => attr(type, octetString(Buffer.from(value))));

  test('ok/valid messages read the same offsets and end as the full path ends', () => {
    fc.assert(
      fc.property(
        fc.record({
          ec: fc.boolean(),
          ber: fc.boolean(),
          byKeyId: fc.boolean(),
          sha256WithRsa: fc.boolean(),
          digestWithoutNull: fc.boolean(),
          extra: fc.array(extraAttr, { maxLength: 3 }),
          order: fc.nat(5),
          otherCerts: fc.subarray([pki.stranger.certificate, pki.rsaCa.certificate]),
          content: fc.uint8Array({ maxLength: 300 }),
        }),
        (s) => {
          const id = s.ec ? pki.ecLeaf : pki.rsaLeaf;
          const content = Buffer.from(s.content);
          const attrs = [...standardAttrs(content), ...s.extra];
          const first = attrs.splice(s.order % attrs.length, 1);
          const ski = certInfo(id.certificate).subjectKeyId ?? Buffer.alloc(0);
          const der = build({
            id,
            content,
            ber: s.ber,
            attrs: [...first, ...attrs],
            certs: [...s.otherCerts, id.certificate],
            ...(s.byKeyId ? { sid: tlv(0x80, ski) } : {}),
            ...(s.digestWithoutNull ? { digestAlg: algorithm(Oid.sha256) } : {}),
            ...(s.sha256WithRsa && !s.ec
              ? { sigAlg: algorithm(Oid.sha256WithRsa, nullValue()) }
              : {}),
          });
          const fast = readDetachedSignedData(der);
          expect(fast).toBeDefined();
          if (fast === undefined) return;
          const parsed = parseSignedData(der);
          const [signer] = parsed.signerInfos;
          const slice = (s0: number, e0: number): Buffer => der.subarray(s0, e0);
          const certs: Buffer[] = [];
          for (let i = 0; i < fast.certificates.length; i += 2)
            certs.push(slice(fast.certificates[i] ?? 0, fast.certificates[i + 1] ?? 0));
          expect(certs).toEqual(parsed.certificates);
          expect(slice(fast.signatureStart, fast.signatureEnd)).toEqual(signer?.signature);
          const set = Buffer.from(slice(fast.attributesStart, fast.attributesEnd));
          set[0] = 0x31;
          expect(set).toEqual(signer?.signedAttributesDer);
          expect(fast.keyType).toBe(s.ec ? 'ec' : 'rsa');
          expect(ours(der, content)).toBe(`ok ${id.certificate.fingerprint256}`);
          expect(ours(der, content)).toBe(full(der, content));
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 60) },
    );
  });
});

describe('the key remembered after a good signature', () => {
  test('fail/another key under the same certificate is still refused, again and again', () => {
    const good = build();
    const forged = build({ signerKey: pki.stranger.privateKey });
    for (let i = 0; i < 3; i++) {
      expect(ours(good)).toBe(`ok ${pki.rsaLeaf.certificate.fingerprint256}`);
      expect(ours(forged)).toBe('ERR_CMS_SIGNATURE signature does not verify');
      expect(ours(forged)).toBe(full(forged));
      expect(ours(good, body.subarray(1))).toBe(full(good, body.subarray(1)));
    }
  });

  test('fail/a certificate differing in one octet of its signature is its own entry', () => {
    const certificate = Buffer.from(pki.rsaLeaf.certificate.raw);
    const last = certificate.length - 1;
    certificate[last] = (certificate[last] as number) ^ 1;
    const good = build();
    const altered = Buffer.from(good);
    altered.set(certificate, good.indexOf(pki.rsaLeaf.certificate.raw));
    expect(ours(good)).toMatch(/^ok /);
    expect(ours(altered)).not.toBe(ours(good));
    expect(ours(altered)).toBe(full(altered));
  });
});
