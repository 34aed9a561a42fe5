/**
 * Shared set-up of the SCEP suites: a CA in a temporary data directory, memoised client keys,
 * and enrollment through our own client, either straight into the handler or over HTTP.
 */
import { createMemoryCertificateStore } from '../../../src/index.js';
import { generateKeyPairSync, type KeyObject, type X509Certificate } from 'node:crypto';
import { createCsr } from '../../../src/crypto/csr.js';
import type { NameAttribute } from '../../../src/crypto/name.js';
import type { DigestName } from '../../../src/crypto/oids.js';
import { createCa, type CertificateAuthority } from '../../../src/identity/ca/authority.js';
import { openCaDirectory, type CaKeyType } from '../../../src/identity/ca/files.js';
import type { IssuancePolicyOptions } from '../../../src/identity/ca/policy.js';
import { type CertificateStore } from '../../../src/identity/ca/store.js';
import {
  createScepRequest,
  createTransientCertificate,
  readCertRep,
  type CertRepResult,
  type ScepRequest,
} from '../../../src/identity/scep/client.js';
import type { EnvelopeCipher } from '../../../src/identity/scep/envelope.js';
import type { ScepHandler } from '../../../src/http/scep.js';
import { makeTmpDir } from '../../support/openssl.js';

/** A CA in a fresh temporary folder. */
export async function setupCa(
  options: {
    keyType?: CaKeyType;
    ra?: boolean;
    issuing?: boolean;
    store?: CertificateStore;
    policy?: IssuancePolicyOptions;
    clock?: () => Date;
  } = {},
): Promise<{ ca: CertificateAuthority; dir: string; store: CertificateStore }> {
  const tmp = makeTmpDir('orchard-scep-');
  const material = await openCaDirectory({
    dir: tmp.path('ca'),
    keyType: options.keyType ?? 'rsa-2048',
    ...(options.ra === undefined ? {} : { ra: options.ra }),
    ...(options.issuing === undefined ? {} : { issuing: options.issuing }),
  });
  const store = options.store ?? createMemoryCertificateStore();
  const ca = createCa(
    { material, store, ...(options.clock ? { clock: options.clock } : {}) },
    options.policy ?? {},
  );
  return { ca, dir: tmp.dir, store };
}

const keys = new Map<string, KeyObject[]>();

/** The `i`-th memoised key of a type (generated once per worker). */
export function clientKey(
  type: 'rsa-1024' | 'rsa-2048' | 'ec-p256' | 'ec-p521' = 'rsa-2048',
  i = 0,
): KeyObject {
  let list = keys.get(type);
  if (list === undefined) keys.set(type, (list = []));
  while (list.length <= i) {
    const pair = type.startsWith('rsa')
      ? generateKeyPairSync('rsa', { modulusLength: Number(type.slice(4)) })
      : generateKeyPairSync('ec', { namedCurve: type === 'ec-p256' ? 'P-256' : 'P-521' });
    list.push(pair.privateKey);
  }
  return list[i] as KeyObject;
}

/** Options of {@link buildRequest}. */
export interface EnrollOptions {
  key?: KeyObject;
  /** Signs the pkiMessage instead of `key` (with a transient certificate of its own). */
  signerKey?: KeyObject;
  signer?: { certificate: X509Certificate; privateKey: KeyObject };
  subject?: string | NameAttribute[];
  challenge?: string;
  messageType?: 'PKCSReq' | 'RenewalReq' | 'CertPoll';
  transactionId?: string;
  digest?: DigestName;
  cipher?: EnvelopeCipher;
  keyTransport?: 'rsa-pkcs1' | 'rsa-oaep';
  signingTime?: Date | false;
  recipient?: X509Certificate;
  csr?: Buffer;
}

/** Builds a request for `ca` and returns it with the key that reads the reply. */
export function buildRequest(
  ca: CertificateAuthority,
  o: EnrollOptions = {},
): { request: ScepRequest; replyKey: KeyObject } {
  const key = o.key ?? clientKey();
  const subject = o.subject ?? 'CN=device-1,O=Orchard';
  const csr =
    o.csr ??
    createCsr({
      subject,
      privateKey: key,
      ...(o.challenge === undefined ? {} : { challengePassword: o.challenge }),
    });
  const signerKey = o.signerKey ?? key;
  const signer = o.signer ?? {
    certificate: createTransientCertificate(signerKey, 'CN=transient'),
    privateKey: signerKey,
  };
  const request = createScepRequest({
    messageType: o.messageType ?? 'PKCSReq',
    content: csr,
    signer,
    recipient: o.recipient ?? ca.responder.certificate,
    ...(o.transactionId ? { transactionId: o.transactionId } : {}),
    ...(o.digest ? { digest: o.digest } : {}),
    ...(o.cipher ? { cipher: o.cipher } : {}),
    ...(o.keyTransport ? { keyTransport: o.keyTransport } : {}),
    ...(o.signingTime === undefined ? {} : { signingTime: o.signingTime }),
  });
  return { request, replyKey: signer.privateKey };
}

/** Sends a request to the handler (POST, or GET with `get`) and reads the CertRep. */
export async function enroll(
  handler: ScepHandler,
  ca: CertificateAuthority,
  o: EnrollOptions & { get?: boolean } = {},
): Promise<CertRepResult & { request: ScepRequest }> {
  const { request, replyKey } = buildRequest(ca, o);
  const res = o.get
    ? await handler({
        method: 'GET',
        query: { operation: 'PKIOperation', message: request.der.toString('base64') },
      })
    : await handler({ method: 'POST', query: { operation: 'PKIOperation' }, body: request.der });
  if (res.status !== 200)
    throw new Error(`SCEP answered ${String(res.status)}: ${Buffer.from(res.body).toString()}`);
  const rep = readCertRep(res.body, request, {
    privateKey: replyKey,
    responders: [ca.responder.certificate],
  });
  return { ...rep, request };
}

/** Enrolls over real HTTP with fetch. */
export async function enrollHttp(
  url: string,
  ca: CertificateAuthority,
  o: EnrollOptions = {},
): Promise<CertRepResult> {
  const { request, replyKey } = buildRequest(ca, o);
  const res = await fetch(`${url}?operation=PKIOperation`, { method: 'POST', body: request.der });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`SCEP answered ${String(res.status)}`);
  return readCertRep(body, request, {
    privateKey: replyKey,
    responders: [ca.responder.certificate],
  });
}
