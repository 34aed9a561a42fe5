/**
 * `withCertAuth`: a service wrapper that authenticates every device request by its identity
 * certificate: it must chain to a trusted CA, it is bound to the device channel at Authenticate,
 * a certificate bound to another enrollment is refused, and a renewed certificate from our CA
 * is accepted and re-bound. Failures are 400 (never 401); storage faults propagate as 5xx.
 */
import { createHash } from 'node:crypto';
import { verifyCertificateChain } from '../crypto/chain.js';
import type { CertificateInput } from '../crypto/keys.js';
import { CryptoError, DeviceAuthError } from '../errors.js';
import type { CertBindingStore } from '../storage/ports.js';
import { silentLogger, type Logger, type MdmRequest, type MdmService } from './ports.js';

/** What `withCertAuth` needs. */
export interface CertAuthDeps {
  store: CertBindingStore;
  /** Trust anchors device certificates must chain to (our SCEP/ACME CA). */
  roots: CertificateInput[];
  intermediates?: CertificateInput[];
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

// The subject of the bound certificate is kept as a second binding under a key no device
// channel id can take (device ids never contain `#`), hashed in its own domain.
const subjectKey = (deviceId: string): string => `${deviceId}#subject`;
const subjectHash = (cert: MdmRequest['certificate'] & object): string =>
  createHash('sha256').update(`subject\0${cert.x509.subject}\0${cert.x509.issuer}`).digest('hex');

function createChecker(deps: CertAuthDeps, options: CertAuthOptions) {
  if (!Array.isArray(deps.roots) || deps.roots.length === 0)
    throw new TypeError('withCertAuth needs roots');
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
 * Wraps `next` so that every request is authenticated by its device certificate before `next`
 * runs; the binding is written only after `next` succeeded, so a refused or failed request
 * stores nothing. Throws TypeError without roots.
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
