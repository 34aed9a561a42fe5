/**
 * The attested-device check of ACME identities: a certificate issued on a device attestation may
 * speak only for the device the attestation named. Wrapped inside `withCertAuth` (which has
 * already verified the chain and binding), it runs before the core and before any binding is
 * written, so a refusal stores nothing. A request passes when the attested UDID is the UDID the
 * channel speaks for, or (a Mac attests its ProvisioningUDID, not its MDM UDID) when the attested
 * serial is the device's serial (the Authenticate's SerialNumber, and the synced serial where
 * one is known). Refusals are 400 `ERR_CERT_BINDING`, never 401.
 */
import { DeviceAuthError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { MdmRequest, MdmService } from './ports.js';

/** The device an attestation named (the ACME verifier's `AttestedDevice`, declared here so service stays below acme). */
export interface AttestedDeviceFacts {
  serial?: string;
  udid?: string;
}

/** What the check reads. */
export interface AttestedIdentityDeps {
  /** The attested device a certificate (serial, lower-case hex) was issued on, if any. */
  attestedDeviceOf(certificateSerial: string): Promise<AttestedDeviceFacts | undefined>;
  /** The serial Orchard knows for a UDID (ADE sync, an earlier Authenticate), if any. */
  knownSerialOf?: (udid: string) => Promise<string | undefined>;
  logger?: Logger;
}

function serialHex(req: MdmRequest): string | undefined {
  const hex = req.certificate?.x509.serialNumber.toLowerCase().replace(/^0+/, '');
  return hex === undefined ? undefined : hex === '' ? '0' : hex;
}

/**
 * Wraps `next` so that an Authenticate whose certificate was issued on an attestation of another
 * device is refused. Only Authenticate binds a certificate to an enrollment (`withCertAuth`), so
 * later requests of a bound certificate need no check. Certificates without an attestation
 * record (SCEP) pass unchanged.
 */
export function withAttestedIdentity(next: MdmService, deps: AttestedIdentityDeps): MdmService {
  const logger = deps.logger ?? silentLogger;
  const check = async (req: MdmRequest, claimedSerial: string | undefined): Promise<void> => {
    const serial = serialHex(req);
    if (serial === undefined) return;
    const device = await deps.attestedDeviceOf(serial);
    if (device === undefined) return;
    const udid = req.enrollment.deviceId;
    if (device.udid !== undefined && device.udid === udid) return;
    if (device.serial !== undefined && claimedSerial === device.serial) {
      const known = await deps.knownSerialOf?.(udid);
      if (known === undefined || known === device.serial) return;
    }
    logger.warn({ enrollmentId: udid, serial }, 'attested identity presented for another device');
    throw new DeviceAuthError(
      'ERR_CERT_BINDING',
      'the certificate was attested for another device',
    );
  };
  return {
    authenticate: async (req, msg) => {
      await check(req, msg.SerialNumber);
      return next.authenticate(req, msg);
    },
    tokenUpdate: (r, m) => next.tokenUpdate(r, m),
    checkOut: (r, m) => next.checkOut(r, m),
    userAuthenticate: (r, m) => next.userAuthenticate(r, m),
    setBootstrapToken: (r, m) => next.setBootstrapToken(r, m),
    getBootstrapToken: (r, m) => next.getBootstrapToken(r, m),
    getToken: (r, m) => next.getToken(r, m),
    declarativeManagement: (r, m) => next.declarativeManagement(r, m),
    unknownCheckin: (r, m) => next.unknownCheckin(r, m),
    commandReport: (r, m) => next.commandReport(r, m),
  };
}
