/**
 * Devices enrolled against a daemon (in-process or spawned) like real ones: an enrollment link,
 * its signed profile, and the simulator's SCEP enrollment (`src/sim/enroll.ts`) for the identity, then
 * Authenticate and TokenUpdate from a `DeviceEmulator` that tests can drive off the honest path.
 * `pkiOperation` stays hand-built: it sends what the simulator never does (RenewalReq signed by
 * any certificate, any challenge) and returns the raw CertRep, failures included.
 */
import { expect } from '@jest/globals';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr } from '../../src/crypto/csr.js';
import { parseNameText } from '../../src/crypto/name.js';
import {
  createScepRequest,
  createTransientCertificate,
  normaliseSerial,
  readCertRep,
  verifyProfile,
  type CertRepResult,
} from '../../src/index.js';
import {
  readEnrollmentProfile,
  scepEnroll,
  type SimEnrollmentProfile,
  type SimScepPayload,
} from '../../src/sim/enroll.js';
import { generateRsaKey } from '../../src/sim/index.js';
import { createApnsTestPki, issuePushCertificate } from '../push/pki.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import type { Harness } from './harness.js';

/**
 * The subject every device here asks for, in encoded order: the daemon's enrollment profiles give
 * every device `[[['O', 'Orchard']], [['CN', 'Orchard device']]]`.
 */
export const DEVICE_SUBJECT = 'O=Orchard,CN=Orchard device';

/** A device enrolled through SCEP, with the certificate and key it holds. */
export interface ScepDevice {
  device: DeviceEmulator;
  certificate: X509Certificate;
  privateKey: KeyObject;
  serial: string;
}

/** SCEP against one daemon. */
export interface ScepEnroller {
  /** The daemon's CA certificate (GetCACert). */
  ca: X509Certificate;
  /** One PKIOperation: a PKCSReq with a transient signer, or a RenewalReq signed by `renew`. */
  pkiOperation(
    key: KeyObject,
    o: { challenge?: string; renew?: { certificate: X509Certificate; privateKey: KeyObject } },
  ): Promise<CertRepResult>;
  /** The one-time SCEP challenge of a fresh enrollment link's signed profile. */
  challengeFromLink(): Promise<string>;
  /** The SCEP challenge inside a signed enrollment profile. */
  challengeOf(signedProfile: Uint8Array): string;
  /** A certificate for a new key, issued against `challenge`. */
  certificateFor(
    challenge: string,
  ): Promise<{ certificate: X509Certificate; privateKey: KeyObject }>;
  /** A device enrolled from a fresh link; `keys` re-enrolls (or claims) an existing UDID. */
  enrollDevice(keys?: Record<string, string>): Promise<ScepDevice>;
}

/**
 * A daemon to enroll against, e.g. a spawned one (`test/support/daemon.ts`): its base URL, its
 * admin API, and the push topic a device falls back to when a profile names none.
 */
export interface EnrollTarget {
  url: string;
  api: Harness['api'];
  topic: string;
}

/**
 * `orchard serve` flags for a push certificate on `topic` (APNs unreachable): a daemon hands out
 * enrollment links only with one. The files go to a fresh tmp directory.
 */
export async function pushCertificateArgs(topic: string): Promise<string[]> {
  const push = await issuePushCertificate(await createApnsTestPki(), { topic });
  const dir = mkdtempSync(join(tmpdir(), 'orchard-push-'));
  writeFileSync(join(dir, 'push.pem'), push.certPem);
  writeFileSync(join(dir, 'push.key'), push.keyPem);
  return [
    ...['--push-cert', join(dir, 'push.pem'), '--push-key', join(dir, 'push.key')],
    ...['--apns-url', 'https://127.0.0.1:9'],
  ];
}

function targetOf(t: Harness | EnrollTarget): EnrollTarget {
  return 'daemon' in t ? { url: t.daemon.url, api: (...a) => t.api(...a), topic: t.topic } : t;
}

/**
 * Creates the SCEP helpers for a harness's daemon or any {@link EnrollTarget}. Link fetches and
 * SCEP requests of honest enrollment go through `fetchFn` (e.g. from an address of their own, to
 * spare a rate-limit bucket).
 */
export async function scepEnroller(
  target: Harness | EnrollTarget,
  fetchFn: typeof fetch = fetch,
  clock: () => Date = () => new Date(),
): Promise<ScepEnroller> {
  const h = targetOf(target);
  const res = await fetch(`${h.url}/scep?operation=GetCACert`);
  const ca = new X509Certificate(Buffer.from(await res.arrayBuffer()));

  const pkiOperation: ScepEnroller['pkiOperation'] = async (key, o) => {
    const csr = createCsr({
      subject: DEVICE_SUBJECT,
      privateKey: key,
      ...(o.challenge === undefined ? {} : { challengePassword: o.challenge }),
    });
    const signer = o.renew ?? {
      certificate: createTransientCertificate(key, 'CN=transient'),
      privateKey: key,
    };
    const request = createScepRequest({
      messageType: o.renew ? 'RenewalReq' : 'PKCSReq',
      content: csr,
      signer,
      recipient: ca,
    });
    const reply = await fetch(`${h.url}/scep?operation=PKIOperation`, {
      method: 'POST',
      body: request.der,
    });
    expect(reply.status).toBe(200);
    const body = Buffer.from(await reply.arrayBuffer());
    return readCertRep(body, request, { privateKey: signer.privateKey, responders: [ca] });
  };

  // Honest enrollment is the simulator's: read the profile's SCEP payload as a device does and
  // enroll a fresh key through `scepEnroll`.
  const readProfile = (signed: Uint8Array): SimEnrollmentProfile => {
    const read = readEnrollmentProfile(verifyProfile(signed, { roots: [ca] }).profile);
    expect(read.scep?.Challenge).toEqual(expect.any(String));
    return read;
  };
  const challengeOf = (signed: Uint8Array): string => readProfile(signed).scep?.Challenge as string;

  const linkProfile = async (): Promise<Uint8Array> => {
    const link = await h.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
    expect(link.status).toBe(201);
    return new Uint8Array(await (await fetchFn(link.body.url as string)).arrayBuffer());
  };

  const identityFor = async (
    scep: SimScepPayload,
  ): Promise<{ certificate: X509Certificate; privateKey: KeyObject }> => {
    const privateKey = await generateRsaKey();
    const { certificate } = await scepEnroll(fetchFn, scep, privateKey, clock());
    return { certificate, privateKey };
  };

  const certificateFor: ScepEnroller['certificateFor'] = (challenge) =>
    identityFor({
      URL: `${h.url}/scep`,
      Challenge: challenge,
      Subject: parseNameText(DEVICE_SUBJECT),
    });

  return {
    ca,
    pkiOperation,
    challengeFromLink: async () => challengeOf(await linkProfile()),
    challengeOf,
    certificateFor,
    async enrollDevice(keys) {
      const { scep, mdm } = readProfile(await linkProfile());
      const identity = await identityFor(scep as SimScepPayload);
      const device = new DeviceEmulator({
        baseUrl: h.url,
        topic: mdm?.Topic ?? h.topic,
        identity,
        ...(keys === undefined ? {} : { keys }),
      });
      await device.enroll();
      return { device, ...identity, serial: normaliseSerial(identity.certificate.serialNumber) };
    },
  };
}
