/**
 * What a device does with an enrollment profile: reads its MDM and SCEP payloads (verifying the
 * signature when it is signed) and enrolls an identity over SCEP with the library's client.
 * See https://developer.apple.com/documentation/devicemanagement/mdm and
 * https://developer.apple.com/documentation/devicemanagement/scep
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { parseSignedData } from '../crypto/cms-parse.js';
import { createCsr } from '../crypto/csr.js';
import type { NameAttribute } from '../crypto/name.js';
import { ProfileError, ProtocolError, ScepError } from '../errors.js';
import {
  createScepRequest,
  createTransientCertificate,
  readCertRep,
} from '../identity/scep/client.js';
import type { PlistDict } from '../protocol/plist.js';
import { decodeProfile, looksLikePlist } from '../profile/sign.js';
import { verifyProfile } from '../profile/verify.js';

/** The `com.apple.mdm` payload keys a device acts on. */
export interface SimMdmPayload {
  ServerURL: string;
  CheckInURL: string;
  Topic: string;
  /** What the server says it supports, e.g. `com.apple.mdm.bootstraptoken`. */
  ServerCapabilities?: string[];
}

/** The `com.apple.security.scep` payload content a device acts on. */
export interface SimScepPayload {
  URL: string;
  Challenge?: string;
  Subject?: NameAttribute[];
}

/** An enrollment profile as a device reads it. */
export interface SimEnrollmentProfile {
  profile: PlistDict;
  mdm: SimMdmPayload | undefined;
  scep: SimScepPayload | undefined;
}

function payloadsOf(profile: PlistDict): PlistDict[] {
  const content = profile.PayloadContent;
  return Array.isArray(content) ? (content as PlistDict[]) : [];
}

function subjectOf(value: unknown): NameAttribute[] | undefined {
  // Apple's Subject is an array of RDNs, each an array of [type, value] pairs.
  if (!Array.isArray(value)) return undefined;
  const out: NameAttribute[] = [];
  for (const rdn of value as unknown[][]) {
    for (const pair of rdn as unknown[][]) {
      const [type, v] = pair;
      if (typeof type === 'string' && typeof v === 'string') out.push({ type, value: v });
    }
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Decodes a profile as a device would: a signed one must verify, a plain plist is read as is.
 * With `trust` (root certificates) the profile must be signed by a signer chaining to one of
 * them: throws `ProfileError` `ERR_PROFILE_NOT_SIGNED` for a plain plist, `CryptoError`
 * `ERR_CERT_UNTRUSTED` for a signer that does not chain to them.
 */
export function openProfile(
  bytes: Uint8Array,
  trust?: { roots: readonly X509Certificate[]; at: Date },
): PlistDict {
  if (trust !== undefined)
    return verifyProfile(bytes, { roots: [...trust.roots], at: trust.at }).profile;
  return looksLikePlist(bytes) ? decodeProfile(bytes) : verifyProfile(bytes).profile;
}

/**
 * Reads the MDM and SCEP payloads of an (already opened) profile; either is undefined when
 * absent. Throws `ProfileError` `ERR_PROFILE_FORMAT` when a present payload lacks its URLs.
 */
export function readEnrollmentProfile(profile: PlistDict): SimEnrollmentProfile {
  const payloads = payloadsOf(profile);
  const mdmDict = payloads.find((p) => p.PayloadType === 'com.apple.mdm');
  const scepDict = payloads.find((p) => p.PayloadType === 'com.apple.security.scep');
  let mdm: SimMdmPayload | undefined;
  if (mdmDict !== undefined) {
    const { ServerURL, CheckInURL, Topic } = mdmDict;
    if (typeof ServerURL !== 'string' || typeof Topic !== 'string') {
      throw new ProfileError('ERR_PROFILE_FORMAT', 'the MDM payload lacks ServerURL or Topic');
    }
    const caps = mdmDict.ServerCapabilities;
    mdm = {
      ServerURL,
      CheckInURL: typeof CheckInURL === 'string' ? CheckInURL : ServerURL,
      Topic,
      ...(Array.isArray(caps)
        ? { ServerCapabilities: caps.filter((c) => typeof c === 'string') }
        : {}),
    };
  }
  let scep: SimScepPayload | undefined;
  if (scepDict !== undefined) {
    const c = (scepDict.PayloadContent ?? {}) as PlistDict;
    if (typeof c.URL !== 'string') {
      throw new ProfileError('ERR_PROFILE_FORMAT', 'the SCEP payload lacks its URL');
    }
    const subject = subjectOf(c.Subject);
    scep = {
      URL: c.URL,
      ...(typeof c.Challenge === 'string' ? { Challenge: c.Challenge } : {}),
      ...(subject === undefined ? {} : { Subject: subject }),
    };
  }
  return { profile, mdm, scep };
}

async function getCaCerts(fetchFn: typeof fetch, url: string): Promise<X509Certificate[]> {
  const res = await fetchFn(`${url}?operation=GetCACert`);
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new ScepError('ERR_SCEP_OPERATION', `GetCACert answered ${res.status}`);
  }
  if ((res.headers.get('content-type') ?? '').includes('ra-cert')) {
    return parseSignedData(body).certificates.map((der) => new X509Certificate(der));
  }
  return [new X509Certificate(body)];
}

/**
 * Enrolls `privateKey` over SCEP as the payload says (PKCSReq with its challenge, signed by a
 * transient certificate) and returns the issued certificate with the CA's certificates. Throws `ScepError` when the CA
 * answers other than SUCCESS, and the client's errors on an unreadable CertRep.
 */
export async function scepEnroll(
  fetchFn: typeof fetch,
  scep: SimScepPayload,
  privateKey: KeyObject,
  now: Date,
): Promise<{ certificate: X509Certificate; cas: X509Certificate[] }> {
  const cas = await getCaCerts(fetchFn, scep.URL);
  const recipient = cas.find((c) => !c.ca) ?? cas[0];
  if (recipient === undefined)
    throw new ScepError('ERR_SCEP_MESSAGE', 'GetCACert held no certificate');
  const subject = scep.Subject ?? 'CN=Orchard simulated device';
  const csr = createCsr({
    subject,
    privateKey,
    ...(scep.Challenge === undefined ? {} : { challengePassword: scep.Challenge }),
  });
  const signer = { certificate: createTransientCertificate(privateKey, subject, now), privateKey };
  // Signed at the device's own time, as its transient certificate is.
  const request = createScepRequest({
    messageType: 'PKCSReq',
    content: csr,
    signer,
    recipient,
    signingTime: now,
  });
  const reply = await fetchFn(`${scep.URL}?operation=PKIOperation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-pki-message' },
    body: request.der,
  });
  const der = new Uint8Array(await reply.arrayBuffer());
  if (reply.status !== 200) {
    throw new ScepError('ERR_SCEP_OPERATION', `PKIOperation answered ${reply.status}`);
  }
  const rep = readCertRep(der, request, {
    privateKey,
    responders: cas,
    certificate: signer.certificate,
  });
  if (rep.status !== 'SUCCESS' || rep.certificate === undefined) {
    throw new ScepError(
      'ERR_SCEP_MESSAGE',
      `SCEP enrollment ended ${rep.status} (${rep.failInfo ?? 'no failInfo'})`,
    );
  }
  return { certificate: rep.certificate, cas };
}

/** GETs an enrollment profile from `url`; `ERR_ENDPOINT` unless it answers 200. */
export async function download(fetchFn: typeof fetch, url: string): Promise<Uint8Array> {
  const res = await fetchFn(url);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new ProtocolError('ERR_ENDPOINT', `the enrollment profile answered ${res.status}`);
  }
  return bytes;
}
