/**
 * `withCertAuth`: a service wrapper that authenticates every device request by its identity
 * certificate: it must chain to a trusted CA, it is bound to the device channel at Authenticate,
 * a certificate bound to another enrollment is refused, and a renewed certificate from our CA
 * is accepted and re-bound; a revoked certificate is refused on every route. Failures are 400
 * (never 401); storage and revocation-lookup faults propagate as 5xx.
 */
import { createHash } from 'node:crypto';
import { verifyCertificateChain } from '../crypto/chain.js';
import type { CertificateInput } from '../crypto/keys.js';
import { CryptoError, DeviceAuthError, StorageError } from '../errors.js';
import type { CertBindingStore } from '../storage/ports.js';
import { silentLogger, type Logger, type MdmRequest, type MdmService } from './ports.js';

/**
 * Tells whether a device certificate was revoked. A `CertificateAuthority` from `createCa` is one,
 * so `withCertAuth(core, { store, roots, revocation: ca })` refuses what `ca.revoke()` revoked.
 */
export interface RevocationSource {
  /**
   * True when the certificate with this serial number (lower-case hex, no leading zeros) is
   * revoked, false otherwise (including unknown serials). A throw or rejection fails the request
   * with 503 `ERR_STORAGE`, so a lookup outage never refuses, let alone unenrolls, a device.
   */
  isRevoked(serial: string): boolean | Promise<boolean>;
}

/** What `withCertAuth` needs. */
export interface CertAuthDeps {
  store: CertBindingStore;
  /** Trust anchors device certificates must chain to (our SCEP/ACME CA). */
  roots: CertificateInput[];
  intermediates?: readonly CertificateInput[];
  /**
   * Asked for every certificate that chains to `roots`, on every route; a revoked one is refused
   * with 400 `ERR_DEVICE_CERT_REVOKED`. Absent: no revocation check.
   */
  revocation?: RevocationSource;
  clock?: () => Date;
  logger?: Logger;
}

/** Policy switches of `withCertAuth`. */
export interface CertAuthOptions {
  /**
   * Which certificate other than the bound one, from a trusted CA and bound to no other
   * enrollment, is accepted as a renewal and re-bound: `same-subject` (default) when its subject
   * and issuer equal the bound one's, `any` for any such certificate (only safe when the CA
   * issues certificates to enrolling devices alone), `never` to require a new Authenticate.
   */
  renewal?: 'same-subject' | 'any' | 'never';
}

/** SHA-256 of DER bytes, lower-case hex: the key certificates are bound by. */
export function certificateHash(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

type Binder = () => Promise<void>;

/** The serial number of `cert` as lower-case hex without leading zeros. */
function serialHex(cert: MdmRequest['certificate'] & object): string {
  const hex = cert.x509.serialNumber.toLowerCase().replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

/** Refuses a revoked certificate; a failing lookup becomes a 503, never a refusal. */
async function checkRevocation(
  source: RevocationSource | undefined,
  req: MdmRequest,
  logger: Logger,
): Promise<void> {
  const cert = req.certificate;
  if (source === undefined || cert === undefined) return;
  const serial = serialHex(cert);
  let revoked: boolean;
  try {
    revoked = await source.isRevoked(serial);
  } catch (cause) {
    throw cause instanceof StorageError
      ? cause
      : new StorageError('revocation lookup failed', { cause });
  }
  if (!revoked) return;
  logger.warn({ enrollmentId: req.enrollment.deviceId, serial }, 'revoked certificate refused');
  throw new DeviceAuthError('ERR_DEVICE_CERT_REVOKED', 'device certificate is revoked');
}

// The subject of the bound certificate is kept as a second binding under a key no device
// channel id can take (device ids never contain `#`), hashed in its own domain.
const subjectKey = (deviceId: string): string => `${deviceId}#subject`;
const subjectHash = (cert: MdmRequest['certificate'] & object): string =>
  createHash('sha256').update(`subject\0${cert.x509.subject}\0${cert.x509.issuer}`).digest('hex');

function createChecker(deps: CertAuthDeps, options: CertAuthOptions) {
  if (!Array.isArray(deps.roots) || deps.roots.length === 0)
    throw new TypeError('withCertAuth needs roots');
  if (deps.revocation !== undefined && typeof deps.revocation.isRevoked !== 'function')
    throw new TypeError('withCertAuth: revocation must have an isRevoked(serial) method');
  const clock = deps.clock ?? (() => new Date());
  const logger = deps.logger ?? silentLogger;
  const verifyChain = (req: MdmRequest): string => {
    const cert = req.certificate;
    if (cert === undefined)
      throw new DeviceAuthError('ERR_IDENTITY_MISSING', 'request carries no device certificate');
    try {
      verifyCertificateChain(cert.x509, {
        roots: deps.roots,
        intermediates: deps.intermediates ?? [],
        at: clock(),
      });
    } catch (cause) {
      if (!(cause instanceof CryptoError)) throw cause;
      throw new DeviceAuthError('ERR_CERT_CHAIN', 'device certificate is not trusted', { cause });
    }
    return certificateHash(cert.der);
  };
  const refuse = (deviceId: string, other: string): never => {
    logger.warn(
      { enrollmentId: deviceId, boundTo: other },
      'certificate bound to another enrollment',
    );
    throw new DeviceAuthError('ERR_CERT_BINDING', 'certificate is bound to another enrollment');
  };
  /** Checks the request; resolves the binding to write once the wrapped service succeeded. */
  return async (req: MdmRequest, authenticate: boolean): Promise<Binder | undefined> => {
    const hash = verifyChain(req);
    await checkRevocation(deps.revocation, req, logger);
    const deviceId = req.enrollment.deviceId;
    const boundTo = await deps.store.findEnrollmentByCertificate(hash);
    if (boundTo !== undefined && boundTo !== deviceId) return refuse(deviceId, boundTo);
    const cert = req.certificate as NonNullable<MdmRequest['certificate']>;
    const bind = async (): Promise<void> => {
      await deps.store.bindCertificate(deviceId, hash);
      await deps.store.bindCertificate(subjectKey(deviceId), subjectHash(cert));
    };
    if (authenticate) return boundTo === undefined ? bind : undefined;
    const binding = await deps.store.findCertificateBinding(deviceId);
    if (binding?.certHash === hash) return undefined;
    if (binding === undefined) {
      throw new DeviceAuthError(
        'ERR_ENROLLMENT_UNKNOWN',
        'no certificate is bound to this enrollment',
      );
    }
    const renewal = options.renewal ?? 'same-subject';
    if (renewal === 'never') return refuse(deviceId, binding.enrollmentId);
    if (renewal === 'same-subject') {
      const bound = await deps.store.findCertificateBinding(subjectKey(deviceId));
      if (bound?.certHash !== subjectHash(cert)) return refuse(deviceId, binding.enrollmentId);
    }
    logger.info({ enrollmentId: deviceId }, 'renewed device certificate re-bound');
    return bind;
  };
}

/**
 * Wraps `next` so that every request is authenticated by its device certificate (chain, then
 * revocation when `deps.revocation` is given, then binding) before `next` runs; the binding is
 * written only after `next` succeeded, so a refused or failed request stores nothing. Throws
 * TypeError without roots.
 */
export function withCertAuth(
  next: MdmService,
  deps: CertAuthDeps,
  options: CertAuthOptions = {},
): MdmService {
  const check = createChecker(deps, options);
  const wrap =
    <M>(
      authenticate: boolean,
      fn: (req: MdmRequest, msg: M) => ReturnType<MdmService['authenticate']>,
    ) =>
    async (req: MdmRequest, msg: M) => {
      const bind = await check(req, authenticate);
      const response = await fn(req, msg);
      if (bind !== undefined) await bind();
      return response;
    };
  return {
    authenticate: wrap(true, (r, m) => next.authenticate(r, m)),
    tokenUpdate: wrap(false, (r, m) => next.tokenUpdate(r, m)),
    checkOut: wrap(false, (r, m) => next.checkOut(r, m)),
    userAuthenticate: wrap(false, (r, m) => next.userAuthenticate(r, m)),
    setBootstrapToken: wrap(false, (r, m) => next.setBootstrapToken(r, m)),
    getBootstrapToken: wrap(false, (r, m) => next.getBootstrapToken(r, m)),
    getToken: wrap(false, (r, m) => next.getToken(r, m)),
    declarativeManagement: wrap(false, (r, m) => next.declarativeManagement(r, m)),
    unknownCheckin: wrap(false, (r, m) => next.unknownCheckin(r, m)),
    commandReport: wrap(false, (r, m) => next.commandReport(r, m)),
  };
}
