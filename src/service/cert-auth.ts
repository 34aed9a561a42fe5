/**
 * `withCertAuth`: a service wrapper that authenticates every device request by its identity
 * certificate: it must chain to a trusted CA and not be revoked, and it must be the certificate
 * bound to the enrollment. A bound enrollment moves to another certificate only through the
 * legal paths of `decideBinding` (identity renewal, RenewalReq, re-enrollment after the binding
 * ended or in an administrator's window); everything else is refused. Failures are 400 (never
 * 401); storage and revocation-lookup faults propagate as 5xx.
 */
import { createHash } from 'node:crypto';
import { verifyCertificateChain } from '../crypto/chain.js';
import type { CertificateInput } from '../crypto/keys.js';
import { CryptoError, DeviceAuthError, StorageError } from '../errors.js';
import type { BindingLookup, CertBinding, CertBindingStore } from '../storage/ports.js';
import {
  silentLogger,
  type DeviceCertificate,
  type Logger,
  type MdmRequest,
  type MdmService,
} from './ports.js';

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

/**
 * What the CA recorded when it issued a certificate: what it was issued for and what it renewed.
 * A `CertificateAuthority` from `createCa` is one.
 */
export interface IssuanceSource {
  /** The record of `serial` (lower-case hex), or `undefined` when this CA did not issue it. */
  findIssuedCertificate(serial: string): Promise<IssuanceRecord | undefined>;
}

/** The part of an issued-certificate record a binding decision reads. */
export interface IssuanceRecord {
  serial: string;
  der: Uint8Array;
  /** What the challenge named: a link, or {@link renewalTarget} of an enrollment. */
  enrollmentId?: string;
  /** Serial of the certificate whose RenewalReq this one answered. */
  renewalOf?: string;
}

/** Why a certificate was bound to an enrollment. */
export type BindingReason = 'enrollment' | 'renewal' | 're-enrollment';

/** Why a certificate was refused for an enrollment. */
export type RefusalReason = 'bound-elsewhere' | 'issued-for-another' | 'takeover';

/** A certificate newly bound to an enrollment, reported after the request succeeded. */
export interface BindingChange {
  enrollmentId: string;
  reason: BindingReason;
  /** Serial of the new certificate (hex). */
  serial: string;
  /** Serial of the certificate it replaced, when one was bound and known. */
  previousSerial?: string;
}

/** A request refused because its certificate may not speak for the enrollment it names. */
export interface BindingRefusal {
  enrollmentId: string;
  reason: RefusalReason;
  /** Serial of the refused certificate (hex). */
  serial: string;
  /** The enrollment the certificate is bound to, for `bound-elsewhere`. */
  boundTo?: string;
}

/** What `withCertAuth` needs. */
export interface CertAuthDeps {
  store: CertBindingStore;
  /** Trust anchors device certificates must chain to (our SCEP/ACME CA). */
  roots: CertificateInput[];
  intermediates?: readonly CertificateInput[];
  /**
   * Asked for every certificate that chains to `roots`, on every route; a revoked one is refused
   * with 400 `ERR_DEVICE_CERT_REVOKED`. Also tells whether a bound certificate was revoked, which
   * ends its binding. Absent: no revocation check.
   */
  revocation?: RevocationSource;
  /**
   * Issuance records of our CA: the only way a bound enrollment moves to a new certificate
   * without its binding having ended (identity renewal, RenewalReq). Absent: it never does.
   */
  issuance?: IssuanceSource;
  /** Told about every new binding once the request succeeded; a throw is logged, not raised. */
  onBound?: (change: BindingChange) => void | Promise<void>;
  /** Told about every refused takeover before the 400 is answered; a throw is logged. */
  onRefused?: (refusal: BindingRefusal) => void | Promise<void>;
  clock?: () => Date;
  logger?: Logger;
}

/**
 * The `enrollmentId` a challenge minted for an identity renewal of enrollment `deviceId` carries,
 * so the certificate issued against it may take over that enrollment's binding and no other.
 */
export function renewalTarget(deviceId: string): string {
  return `renewal:${deviceId}`;
}

/** SHA-256 of DER bytes, lower-case hex: the key certificates are bound by. */
export function certificateHash(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

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
  if (!(await isRevoked(source, serial))) return;
  logger.warn({ enrollmentId: req.enrollment.deviceId, serial }, 'revoked certificate refused');
  throw new DeviceAuthError('ERR_DEVICE_CERT_REVOKED', 'device certificate is revoked');
}

/** Asks the revocation source; its failures become 503 `ERR_STORAGE`. */
async function isRevoked(source: RevocationSource, serial: string): Promise<boolean> {
  try {
    return await source.isRevoked(serial);
  } catch (cause) {
    throw cause instanceof StorageError
      ? cause
      : new StorageError('revocation lookup failed', { cause });
  }
}

/** Everything the binding decision reads, gathered before it is made. */
export interface BindingFacts {
  deviceId: string;
  /** The request is an Authenticate: only then may a binding start or restart. */
  authenticate: boolean;
  now: Date;
  certHash: string;
  /** Another enrollment this certificate is bound to. */
  boundElsewhere: string | undefined;
  binding: CertBinding | undefined;
  /** What the certificate was issued for, from the CA's records. */
  issuedFor: string | undefined;
  /** The certificate answered a RenewalReq: whether the renewed one is bound to `deviceId`. */
  renews: 'none' | 'this-enrollment' | 'other';
  /** The bound certificate was revoked. */
  boundRevoked: boolean;
}

/** The outcome of {@link decideBinding}. */
export type BindingDecision =
  | { action: 'accept' }
  | { action: 'bind'; reason: BindingReason }
  | { action: 'unknown' }
  | { action: 'refuse'; reason: RefusalReason };

/** True when the binding no longer protects its enrollment: ended, revoked or expired. */
function bindingEnded(facts: BindingFacts, binding: CertBinding): boolean {
  if (binding.endedAt !== undefined || facts.boundRevoked) return true;
  return binding.notAfter !== undefined && binding.notAfter.getTime() <= facts.now.getTime();
}

/**
 * Decides whether a certificate may speak for an enrollment: a pure function of the facts, so
 * every path is table-tested. Subjects are never compared. A bound enrollment moves to another
 * certificate only by an identity renewal minted for it, a RenewalReq its bound certificate
 * signed, or, at Authenticate, once its binding ended or an administrator opened a window.
 */
export function decideBinding(facts: BindingFacts): BindingDecision {
  const { binding, deviceId } = facts;
  if (facts.boundElsewhere !== undefined) return { action: 'refuse', reason: 'bound-elsewhere' };
  const forThis = facts.issuedFor === renewalTarget(deviceId);
  const forAnother = facts.issuedFor?.startsWith(renewalTarget('')) === true && !forThis;
  if (forAnother || facts.renews === 'other')
    return { action: 'refuse', reason: 'issued-for-another' };
  if (binding === undefined)
    return facts.authenticate ? { action: 'bind', reason: 'enrollment' } : { action: 'unknown' };
  if (binding.certHash === facts.certHash) {
    const restart = facts.authenticate && binding.endedAt !== undefined;
    return restart ? { action: 'bind', reason: 're-enrollment' } : { action: 'accept' };
  }
  if (forThis || facts.renews === 'this-enrollment') return { action: 'bind', reason: 'renewal' };
  if (!facts.authenticate) return { action: 'refuse', reason: 'takeover' };
  const window = binding.reenrollUntil !== undefined && binding.reenrollUntil > facts.now;
  if (bindingEnded(facts, binding) || window) return { action: 'bind', reason: 're-enrollment' };
  return { action: 'refuse', reason: 'takeover' };
}

/** Writes the new binding once the wrapped service succeeded; `renewal` marks an identity renewal. */
type Binder = (() => Promise<void>) & { renewal: boolean };

/** What the CA recorded about `serial`, only when it is this very certificate. */
async function issuanceOf(
  source: IssuanceSource | undefined,
  serial: string,
  der: Uint8Array,
): Promise<IssuanceRecord | undefined> {
  const record = await source?.findIssuedCertificate(serial);
  return record !== undefined && Buffer.from(record.der).equals(der) ? record : undefined;
}

/** Whether the certificate a RenewalReq renewed is the one bound to `deviceId`. */
async function renewsWhom(
  deps: CertAuthDeps,
  record: IssuanceRecord | undefined,
  deviceId: string,
): Promise<BindingFacts['renews']> {
  if (record?.renewalOf === undefined) return 'none';
  const renewed = await deps.issuance?.findIssuedCertificate(record.renewalOf);
  if (renewed === undefined) return 'other';
  const owner = await deps.store.findEnrollmentByCertificate(certificateHash(renewed.der));
  return owner === deviceId ? 'this-enrollment' : 'other';
}

/** The enrollment's binding and the enrollment bound to `certHash`: one read when the store can. */
async function bindingLookup(
  store: CertBindingStore,
  deviceId: string,
  certHash: string,
): Promise<BindingLookup> {
  if (store.findBindingFacts !== undefined) return store.findBindingFacts(deviceId, certHash);
  const boundTo = await store.findEnrollmentByCertificate(certHash);
  return { boundTo, binding: await store.findCertificateBinding(deviceId) };
}

/** Runs an observer hook; its failure is logged and never changes the answer. */
async function tell<T>(
  hook: ((arg: T) => void | Promise<void>) | undefined,
  arg: T,
  logger: Logger,
) {
  if (hook === undefined) return;
  try {
    await hook(arg);
  } catch (error) {
    logger.error({ err: error }, 'certificate binding observer failed');
  }
}

const REFUSALS: Record<RefusalReason, string> = {
  'bound-elsewhere': 'certificate is bound to another enrollment',
  'issued-for-another': 'certificate was issued for another enrollment',
  takeover: 'certificate is not the one bound to this enrollment',
};

function createChecker(deps: CertAuthDeps) {
  if (!Array.isArray(deps.roots) || deps.roots.length === 0)
    throw new TypeError('withCertAuth needs roots');
  if (deps.revocation !== undefined && typeof deps.revocation.isRevoked !== 'function')
    throw new TypeError('withCertAuth: revocation must have an isRevoked(serial) method');
  if (deps.issuance !== undefined && typeof deps.issuance.findIssuedCertificate !== 'function')
    throw new TypeError('withCertAuth: issuance must have a findIssuedCertificate(serial) method');
  const clock = deps.clock ?? (() => new Date());
  const logger = deps.logger ?? silentLogger;
  const verifyChain = (req: MdmRequest): DeviceCertificate => {
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
    return cert;
  };
  const gather = async (req: MdmRequest, cert: DeviceCertificate, authenticate: boolean) => {
    const deviceId = req.enrollment.deviceId;
    const certHash = certificateHash(cert.der);
    const serial = serialHex(cert);
    const { boundTo, binding } = await bindingLookup(deps.store, deviceId, certHash);
    const facts: BindingFacts = {
      deviceId,
      authenticate,
      now: clock(),
      certHash,
      boundElsewhere: boundTo !== undefined && boundTo !== deviceId ? boundTo : undefined,
      binding,
      issuedFor: undefined,
      renews: 'none',
      boundRevoked: false,
    };
    // The CA's records are read only when the certificate is not simply the bound one.
    if (binding?.certHash !== certHash && facts.boundElsewhere === undefined) {
      const record = await issuanceOf(deps.issuance, serial, cert.der);
      facts.issuedFor = record?.enrollmentId;
      facts.renews = await renewsWhom(deps, record, deviceId);
      if (binding?.serial !== undefined && deps.revocation !== undefined && authenticate)
        facts.boundRevoked = await isRevoked(deps.revocation, binding.serial);
    }
    return { facts, serial };
  };
  /** Checks the request; resolves the binding to write once the wrapped service succeeded. */
  return async (req: MdmRequest, authenticate: boolean): Promise<Binder | undefined> => {
    const cert = verifyChain(req);
    await checkRevocation(deps.revocation, req, logger);
    const { facts, serial } = await gather(req, cert, authenticate);
    const decision = decideBinding(facts);
    const deviceId = facts.deviceId;
    if (decision.action === 'accept') return undefined;
    if (decision.action === 'unknown')
      throw new DeviceAuthError(
        'ERR_ENROLLMENT_UNKNOWN',
        'no certificate is bound to this enrollment',
      );
    if (decision.action === 'refuse') {
      const refusal: BindingRefusal = { enrollmentId: deviceId, reason: decision.reason, serial };
      if (facts.boundElsewhere !== undefined) refusal.boundTo = facts.boundElsewhere;
      logger.warn(refusal, 'certificate refused for this enrollment');
      await tell(deps.onRefused, refusal, logger);
      throw new DeviceAuthError('ERR_CERT_BINDING', REFUSALS[decision.reason]);
    }
    const change: BindingChange = { enrollmentId: deviceId, reason: decision.reason, serial };
    const previous = facts.binding?.serial;
    if (previous !== undefined && facts.binding?.certHash !== facts.certHash)
      change.previousSerial = previous;
    const bind = async (): Promise<void> => {
      await deps.store.bindCertificate(deviceId, facts.certHash, {
        serial,
        notAfter: new Date(cert.x509.validTo),
      });
      if (decision.reason !== 'enrollment')
        logger.info({ ...change }, 'device certificate re-bound');
      await tell(deps.onBound, change, logger);
    };
    return Object.assign(bind, { renewal: decision.reason === 'renewal' });
  };
}

/**
 * Wraps `next` so that every request is authenticated by its device certificate (chain, then
 * revocation when `deps.revocation` is given, then the binding rules of {@link decideBinding})
 * before `next` runs; a new binding is written only after `next` succeeded, so a refused or
 * failed request stores nothing. Refusals are 400, never 401. Throws TypeError without roots.
 */
export function withCertAuth(next: MdmService, deps: CertAuthDeps): MdmService {
  const check = createChecker(deps);
  const wrap =
    <M>(
      authenticate: boolean,
      fn: (req: MdmRequest, msg: M) => ReturnType<MdmService['authenticate']>,
    ) =>
    async (req: MdmRequest, msg: M) => {
      const bind = await check(req, authenticate);
      const response = await fn(
        bind?.renewal === true ? { ...req, identityRenewal: true } : req,
        msg,
      );
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
