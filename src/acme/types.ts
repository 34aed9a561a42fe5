/**
 * The ACME core's own types: its dependencies and options, the request it takes and the reply it
 * gives. No HTTP library here: `src/http/acme.ts` turns requests into {@link AcmeRequest}s and
 * {@link AcmeReply}s into responses.
 */
import type { X509Certificate } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { CertificateAuthority } from '../identity/ca/authority.js';
import type {
  AcmeAuthorizationRecord,
  AcmeIdentifier,
  AcmeOrderRecord,
  AcmeStore,
  IssuedCertificate,
} from '../storage/ports.js';
import type { DeviceAttestationVerifier } from './attestation.js';

/** What {@link AcmeIdentifierPolicy} decides for an allowed identifier. */
export interface AcmeIdentifierGrant {
  /** Recorded on the order and on the certificate issued for it (e.g. `enrollment-token:<id>`). */
  enrollmentId?: string;
}

/**
 * Decides whether an account may order a certificate for `identifier` (a `permanent-identifier`;
 * on Apple devices the profile's ClientIdentifier). `undefined` refuses it
 * (`rejectedIdentifier`); a rejection is a server fault.
 */
export type AcmeIdentifierPolicy = (input: {
  identifier: AcmeIdentifier;
  accountId: string;
}) => Promise<AcmeIdentifierGrant | undefined>;

/** What {@link AcmeServerDeps.onIssued} hears after a certificate is issued and recorded. */
export interface AcmeIssuedEvent {
  order: AcmeOrderRecord;
  authorizations: AcmeAuthorizationRecord[];
  certificate: IssuedCertificate;
}

/** Dependencies of `createAcmeServer`. */
export interface AcmeServerDeps {
  store: AcmeStore;
  /** Issues and records the certificates, like SCEP's (revocable the same way). */
  ca: CertificateAuthority;
  /** Who may order what; required, so no deployment serves ACME to anyone by accident. */
  authorizeIdentifier: AcmeIdentifierPolicy;
  /** Verifies device-attest-01; default the stub of `attestation.ts`. */
  verifyAttestation?: DeviceAttestationVerifier;
  /** Anchors of device attestations, handed to the verifier. */
  attestationRoots?: readonly X509Certificate[];
  /**
   * Uses up the order's identifiers at finalize, after the order moved to processing and before
   * the certificate is issued (e.g. `AcmeClientIdentifiers.use`, one conditional store step).
   * False refuses the finalize with rejectedIdentifier and the order becomes invalid, so two
   * orders for one one-time value never both issue. Absent, nothing is used up here.
   */
  useIdentifiers?: (order: AcmeOrderRecord) => Promise<boolean>;
  /** Told of every issued certificate (e.g. to bind attested serial and UDID); errors are logged. */
  onIssued?: (event: AcmeIssuedEvent) => Promise<void> | void;
  /** Default `() => new Date()`. */
  clock?: () => Date;
  /** Random bytes for ids, nonces and tokens; default a pooled CSPRNG. */
  random?: (size: number) => Buffer;
  logger?: Logger;
}

/** Options of `createAcmeServer`. */
export interface AcmeServerOptions {
  /**
   * The ACME base URL clients use, without a trailing slash (e.g. `https://mdm.example.com/acme`);
   * a function when it can change at run time. Every JWS `url` must start with it.
   */
  baseUrl: string | (() => string);
  /** How long a nonce stays usable; default 600 s. */
  nonceTtlSeconds?: number;
  /** How long an order (and its authorizations) may take to become valid; default 3600 s. */
  orderTtlSeconds?: number;
  /** How long a valid order (and its certificate URL) is kept after it expires; default 30 days. */
  keepValidOrdersSeconds?: number;
  /**
   * TEST ONLY. Offer the `test-01` challenge, which is valid as soon as the client responds
   * (optionally binding the key named by `attestKey`). Never fetches anything. Default false.
   */
  testChallenge?: boolean;
}

/** One ACME request, as an adapter hands it over. */
export interface AcmeRequest {
  method: string;
  /** The path below the ACME base, e.g. `/new-order` or `/order/<id>/finalize`. */
  path: string;
  /** The request's `content-type`, when it has one. */
  contentType?: string;
  body: Uint8Array;
}

/** A link header value: `<url>;rel="rel"`. */
export interface AcmeLink {
  url: string;
  rel: string;
}

/** What the core answers; errors are thrown as `AcmeError` (or StorageError). */
export interface AcmeReply {
  status: number;
  /** A JSON body, or a PEM certificate chain (`application/pem-certificate-chain`). */
  body?: { json: unknown } | { pem: string };
  location?: string;
  links?: AcmeLink[];
}
