/**
 * The SCEP responder: what GetCACaps, GetCACert and PKIOperation answer, as domain values (the
 * capability list, the CA certificates and which form they take, the CertRep bytes). It knows no
 * methods, query strings or content types; `src/http/scep.ts` translates HTTP to it.
 */
import type { X509Certificate } from 'node:crypto';
import { createCertsOnlyCms } from '../../crypto/cms-sign.js';
import { ScepError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { CertificateAuthority } from '../ca/authority.js';
import type { ChallengeValidator } from './challenge.js';
import { processPkiOperation, type OperationContext } from './operation.js';
import { createPendingRequests } from './pending.js';

/** Dependencies of the SCEP responder (and of `createScepHandler`). */
export interface ScepDeps {
  ca: CertificateAuthority;
  /** Decides PKCSReq: `staticChallenge`, one-time challenges, a webhook, or your own function. */
  validator: ChallengeValidator;
  /** Default `() => new Date()`. */
  clock?: () => Date;
  /** Default silent. Challenges and keys are never logged. */
  logger?: Logger;
}

/** Options of the SCEP responder (and of `createScepHandler`). */
export interface ScepHandlerOptions {
  /** Largest PKIOperation message accepted; default 64 KiB. */
  maxMessageBytes?: number;
  /**
   * Accept SHA-1 signed requests; default true, as Debian's scepclient and older devices sign
   * with SHA-1 (the signature only binds the client's own transient key). False answers badAlg.
   */
  allowSha1?: boolean;
  /**
   * Decrypt single-DES requests, as Debian's scepclient 2.1.0 sends; default false (badAlg). The
   * challenge in such a request travels under a 56-bit key: enable only for such clients.
   */
  allowSingleDes?: boolean;
  /** Largest accepted distance of a request's signingTime from now; default 24 h. */
  maxClockSkewSeconds?: number;
  /** Answer RenewalReq; default true. */
  renewal?: boolean;
  /** Deferred (PENDING) requests kept; default 1000 for 24 h. */
  maxPending?: number;
  pendingTtlSeconds?: number;
}

/**
 * GetCACert's answer: the CA certificate alone (`ca`, DER), or with an RA or issuing CA a
 * degenerate PKCS#7 of the RA, the issuing CA and the root (`ca-ra`).
 */
export interface ScepCaCertificates {
  kind: 'ca' | 'ca-ra';
  body: Uint8Array;
}

/** The three SCEP operations as domain calls. */
export interface ScepResponder {
  /** GetCACaps: the capabilities this server offers. */
  readonly caps: readonly string[];
  /** Largest PKIOperation message accepted, in bytes. */
  readonly maxMessageBytes: number;
  /** GetCACert. */
  readonly caCertificates: ScepCaCertificates;
  /**
   * PKIOperation: a request pkiMessage (DER) to a signed CertRep (DER). Refusals a client can
   * cause are FAILURE CertReps; rejects with {@link ScepError} on a message past the limit (413),
   * an unreadable one (400) or an unreachable validator (503).
   */
  pkiOperation(message: Uint8Array): Promise<Uint8Array>;
}

const CAPS: readonly string[] = Object.freeze([
  'POSTPKIOperation',
  'Renewal',
  'SHA-256',
  'SHA-512',
  'AES',
  'DES3',
  'SCEPStandard',
]);

/**
 * The GetCACert answer of `ca`. With an RA or an issuing CA: a degenerate PKCS#7 of the RA, the
 * issuing CA and the root (retired issuing CAs sign nothing more, so they are not offered). The
 * root must be there: Apple's client hashes the top of the chain these form against the
 * profile's CAFingerprint.
 */
function caCertificatesOf(ca: CertificateAuthority): ScepCaCertificates {
  const issuing = ca.issuer.raw.equals(ca.certificate.raw) ? [] : [ca.issuer];
  const above: X509Certificate[] = [...(ca.ra ? [ca.ra.certificate] : []), ...issuing];
  if (above.length === 0) return { kind: 'ca', body: ca.certificate.raw };
  return { kind: 'ca-ra', body: createCertsOnlyCms([...above, ca.certificate]) };
}

function operationContext(deps: ScepDeps, options: ScepHandlerOptions): OperationContext {
  return {
    ca: deps.ca,
    validator: deps.validator,
    pending: createPendingRequests(
      options.maxPending ?? 1000,
      (options.pendingTtlSeconds ?? 86_400) * 1000,
    ),
    clock: deps.clock ?? (() => new Date()),
    logger: deps.logger ?? silentLogger,
    allowSha1: options.allowSha1 !== false,
    allowSingleDes: options.allowSingleDes === true,
    maxClockSkewMs: (options.maxClockSkewSeconds ?? 86_400) * 1000,
    renewal: options.renewal !== false,
  };
}

/**
 * Creates the SCEP responder for `deps.ca`. Throws `TypeError` (prefixed with `who`) when the CA
 * cannot answer SCEP: its responder key is not RSA, so it could not decrypt requests.
 */
export function createScepResponder(
  deps: ScepDeps,
  options: ScepHandlerOptions = {},
  who = 'createScepResponder()',
): ScepResponder {
  if (deps.ca.responder.privateKey.asymmetricKeyType !== 'rsa')
    throw new TypeError(`${who}: SCEP needs an RSA CA or an RSA RA certificate`);
  const ctx = operationContext(deps, options);
  const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
  return {
    caps: CAPS,
    maxMessageBytes,
    caCertificates: caCertificatesOf(deps.ca),
    pkiOperation(message) {
      if (message.length > maxMessageBytes)
        return Promise.reject(new ScepError('ERR_SCEP_BODY_TOO_LARGE', 'message too large'));
      return processPkiOperation(ctx, message);
    },
  };
}
