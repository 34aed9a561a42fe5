/**
 * Devices enrolled against the in-process daemon like real ones: an enrollment link, its signed
 * profile, a SCEP certificate from the daemon's CA, Authenticate and TokenUpdate; plus SCEP
 * renewals and the challenge inside any enrollment profile (a link's, or a renewal's
 * InstallProfile payload).
 */
import { expect } from '@jest/globals';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { createCsr } from '../../src/crypto/csr.js';
import {
  createScepRequest,
  createTransientCertificate,
  normaliseSerial,
  readCertRep,
  verifyProfile,
  type CertRepResult,
  type PlistDict,
} from '../../src/index.js';
import { DeviceEmulator } from '../support/device-emulator.js';
import type { Harness } from './harness.js';

/** The subject every device here asks for: the daemon's profiles give every device one subject. */
export const DEVICE_SUBJECT = 'CN=Orchard device,O=Orchard';

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

/** Creates the SCEP helpers for `h`'s daemon. */
export async function scepEnroller(h: Harness): Promise<ScepEnroller> {
  const res = await fetch(`${h.daemon.url}/scep?operation=GetCACert`);
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
    const reply = await fetch(`${h.daemon.url}/scep?operation=PKIOperation`, {
      method: 'POST',
      body: request.der,
    });
    expect(reply.status).toBe(200);
    const body = Buffer.from(await reply.arrayBuffer());
    return readCertRep(body, request, { privateKey: signer.privateKey, responders: [ca] });
  };

  const challengeOf = (signed: Uint8Array): string => {
    const { profile } = verifyProfile(signed, { roots: [ca] });
    const scep = (profile.PayloadContent as PlistDict[]).find(
      (p) => p.PayloadType === 'com.apple.security.scep',
    );
    return (scep?.PayloadContent as PlistDict).Challenge as string;
  };

  const challengeFromLink = async (): Promise<string> => {
    const link = await h.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
    expect(link.status).toBe(201);
    return challengeOf(Buffer.from(await (await fetch(link.body.url as string)).arrayBuffer()));
  };

  const certificateFor: ScepEnroller['certificateFor'] = async (challenge) => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rep = await pkiOperation(privateKey, { challenge });
    expect(rep.status).toBe('SUCCESS');
    return { certificate: rep.certificate as X509Certificate, privateKey };
  };

  return {
    ca,
    pkiOperation,
    challengeFromLink,
    challengeOf,
    certificateFor,
    async enrollDevice(keys) {
      const identity = await certificateFor(await challengeFromLink());
      const device = new DeviceEmulator({
        baseUrl: h.daemon.url,
        topic: h.topic,
        identity,
        ...(keys === undefined ? {} : { keys }),
      });
      await device.enroll();
      return { device, ...identity, serial: normaliseSerial(identity.certificate.serialNumber) };
    },
  };
}
