/**
 * `withIdlePolls`: the device hot path. An Idle command report with nothing queued is most of a
 * fleet's traffic; wrapped around `withCertAuth(core)`, it answers such a poll from one storage
 * read (binding, revocation, enrollment state and queue together) instead of a revocation
 * lookup, two binding reads, an enrollment read and a write transaction. It only ever answers
 * the one outcome the full path would give (200, empty, last-seen touched); anything else (an
 * unbound, rebound or revoked certificate, an enrollment not enrolled, a pending command, a
 * failed chain or read) goes down the full path unchanged, which refuses, binds or sends.
 */
import type { X509Certificate } from 'node:crypto';
import { verifyCertificateChainOnce } from '../crypto/chain.js';
import type { CertificateInput } from '../crypto/keys.js';
import { certificateHash } from './cert-auth.js';
import {
  EMPTY_OK,
  silentLogger,
  type Logger,
  type MdmRequest,
  type MdmResponse,
  type MdmService,
} from './ports.js';
import type { CommandReport } from '../protocol/command.js';

/** What one idle poll needs to know, read in one go and never cached. */
export interface IdlePollFacts {
  /** The enrollment exists and is enrolled. */
  enrolled: boolean;
  /** SHA-256 (hex) of the certificate bound to the device, when one is. */
  boundHash: string | undefined;
  /** The enrollment most recently bound to the presented certificate, when any. */
  hashOwner: string | undefined;
  /** The presented certificate was revoked (by the CA `withCertAuth` asks). */
  revoked: boolean;
  /** Something is queued, sent or deferred (NotNow) for the enrollment. */
  pending: boolean;
}

/**
 * Reads {@link IdlePollFacts}, as a promise or at once (the SQLite storage's `probeIdleNow`: an
 * answer without a promise saves an idle poll a turn of the microtask queue). A throw or a
 * rejection sends the poll down the full path.
 */
export type IdlePollProbe = (query: {
  enrollmentId: string;
  deviceId: string;
  certHash: string;
  serial: string;
}) => IdlePollFacts | Promise<IdlePollFacts>;

/** What {@link withIdlePolls} needs: the same roots `withCertAuth` has, a probe, last-seen. */
export interface IdlePollDeps {
  /**
   * Must read bindings from the store `withCertAuth` binds in and revocation from the source it
   * asks (the SQLite storage's `probeIdleNow` over the database its CA shares), on every call.
   */
  probe: IdlePollProbe;
  /** Where last-seen instants go, as the core writes them (`CheckinStore.touchLastSeen`). */
  touchLastSeen(ids: readonly string[], at: Date): Promise<void>;
  roots: CertificateInput[];
  intermediates?: readonly CertificateInput[];
  clock?: () => Date;
  logger?: Logger;
}

/** A certificate's hash and serial, worked out once per certificate object. */
const certificateKeys = new WeakMap<X509Certificate, { hash: string; serial: string }>();

function keysOf(der: Uint8Array, x509: X509Certificate): { hash: string; serial: string } {
  let keys = certificateKeys.get(x509);
  if (keys === undefined) {
    const hex = x509.serialNumber.toLowerCase().replace(/^0+/, '');
    keys = { hash: certificateHash(der), serial: hex === '' ? '0' : hex };
    certificateKeys.set(x509, keys);
  }
  return keys;
}

/** True when the full path would accept this certificate for the device and answer empty. */
function answersEmpty(facts: IdlePollFacts, deviceId: string, certHash: string): boolean {
  return (
    facts.enrolled &&
    !facts.revoked &&
    !facts.pending &&
    facts.boundHash === certHash &&
    facts.hashOwner === deviceId
  );
}

/**
 * Wraps `next` (the core behind `withCertAuth` with the same roots) so an Idle report from the
 * bound, unrevoked certificate of an enrolled enrollment with an empty queue is answered 200
 * after one probe; every other message and outcome is `next`'s. Throws TypeError without roots
 * or probe.
 */
export function withIdlePolls(next: MdmService, deps: IdlePollDeps): MdmService {
  if (!Array.isArray(deps.roots) || deps.roots.length === 0)
    throw new TypeError('withIdlePolls needs roots');
  if (typeof deps.probe !== 'function') throw new TypeError('withIdlePolls needs a probe');
  const clock = deps.clock ?? (() => new Date());
  const logger = deps.logger ?? silentLogger;
  const { roots } = deps;
  const intermediates = deps.intermediates ?? [];
  const probeFailed = (err: unknown): void => {
    // A failed probe is not an answer: the full path decides (and reports its own faults).
    logger.debug({ err }, 'idle poll probe failed; taking the full path');
  };
  const touchFailed = (err: unknown): MdmResponse => {
    logger.error({ err }, 'last-seen write failed');
    return EMPTY_OK;
  };
  const answered = (): MdmResponse => EMPTY_OK;
  /** The answer to an idle poll whose facts are read: empty after last-seen, or the full path's. */
  const decide = (
    facts: IdlePollFacts,
    req: MdmRequest,
    report: CommandReport,
    hash: string,
    now: Date,
  ): Promise<MdmResponse> => {
    const { id, deviceId } = req.enrollment;
    if (!answersEmpty(facts, deviceId, hash)) return next.commandReport(req, report);
    try {
      return deps.touchLastSeen([id], now).then(answered, touchFailed);
    } catch (err) {
      return Promise.resolve(touchFailed(err));
    }
  };
  /**
   * The answer to an Idle report, or `undefined` when the full path must decide at once.
   * Without a promise of its own when the probe answers at once: an idle poll is most of a
   * fleet's traffic.
   */
  const fast = (req: MdmRequest, report: CommandReport): Promise<MdmResponse> | undefined => {
    const cert = req.certificate;
    if (cert === undefined) return undefined;
    const now = clock();
    try {
      verifyCertificateChainOnce(cert.x509, { roots, intermediates, at: now });
    } catch {
      return undefined; // the full path refuses with the right code
    }
    const { hash, serial } = keysOf(cert.der, cert.x509);
    const { id, deviceId } = req.enrollment;
    let facts: IdlePollFacts | Promise<IdlePollFacts>;
    try {
      facts = deps.probe({ enrollmentId: id, deviceId, certHash: hash, serial });
    } catch (err) {
      probeFailed(err);
      return;
    }
    if (!(facts instanceof Promise)) return decide(facts, req, report, hash, now);
    return facts.then(
      (read) => decide(read, req, report, hash, now),
      (err: unknown) => {
        probeFailed(err);
        return next.commandReport(req, report);
      },
    );
  };
  return {
    ...next,
    commandReport: (req, report) => {
      if (report.Status !== 'Idle') return next.commandReport(req, report);
      return fast(req, report) ?? next.commandReport(req, report);
    },
  };
}
