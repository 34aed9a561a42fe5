/**
 * Orchard's ACME server wired from opened parts (what `orchard serve` mounts on `/acme/`):
 * RFC 8555 with Apple's device-attest-01 over an ACME store (shared by every daemon on one
 * PostgreSQL database), issuing with the services' CA. Orders are allowed only for the one-time
 * ClientIdentifiers Orchard put in enrollment profiles; device attestations must chain to the
 * given anchors (default Apple's Enterprise Attestation Root); test-01 only when asked for.
 */
import type { X509Certificate } from 'node:crypto';
import { createAppleAttestationVerifier } from '../acme/attestation.js';
import { appleAttestationRoots } from '../acme/attestation-roots.js';
import type { AcmeClientIdentifiers } from '../acme/client-identifiers.js';
import { createAcmeServer, type AcmeServer } from '../acme/server.js';
import type { AttestationIdentifierCheck } from '../acme/attestation.js';
import type { AcmeServerDeps } from '../acme/types.js';
import type { CertificateAuthority } from '../identity/ca/authority.js';
import type { Logger } from '../logger.js';
import type { AcmeStore } from '../storage/ports.js';

export { appleAttestationRoots, attestationRootsFromPem } from '../acme/attestation-roots.js';
export type { AcmeServer } from '../acme/server.js';
export {
  createAcmeClientIdentifiers,
  type AcmeClientIdentifiers,
  type ClientIdentifierDeps,
} from '../acme/client-identifiers.js';

/** The ClientIdentifier hooks of the ACME server (who may order, use-up, issue record, attest check). */
export type OrchardAcmeHooks = Required<
  Pick<AcmeServerDeps, 'authorizeIdentifier' | 'useIdentifiers' | 'onIssued'>
> & { checkIdentifier: AttestationIdentifierCheck };

/** The parts {@link createOrchardAcme} wires. */
export interface OrchardAcmeDeps {
  /** Nonces, accounts, orders (the database's, so several daemons share them). */
  store: AcmeStore;
  /** The one-time ClientIdentifiers (`createAcmeClientIdentifiers` over the database's store). */
  identifiers: AcmeClientIdentifiers;
  /**
   * The enrollment composition's hooks (`OrchardServices.acmeEnrollment.serverHooks`: they also
   * spend the enrollment link); default the plain hooks of `identifiers`.
   */
  hooks?: OrchardAcmeHooks;
  /** The services' CA: ACME certificates are recorded and revoked like SCEP's. */
  ca: CertificateAuthority;
  /** Anchors of device attestations; default Apple's Enterprise Attestation Root. */
  attestationRoots?: readonly X509Certificate[];
  clock: () => Date;
  logger: Logger;
}

/** Policy of {@link createOrchardAcme}. */
export interface OrchardAcmeOptions {
  /** The ACME base URL (e.g. `<public URL>/acme`), read per request. */
  baseUrl: () => string;
  /** TEST ONLY: offer test-01, valid without any proof. Default false. */
  testChallenge?: boolean;
}

/**
 * Creates the ACME server over `deps.store` and the services' CA; mount it with
 * `orchardRoutes({ acme })`. Throws TypeError on invalid options.
 */
export function createOrchardAcme(deps: OrchardAcmeDeps, options: OrchardAcmeOptions): AcmeServer {
  const { clock, logger, identifiers } = deps;
  const hooks: OrchardAcmeHooks = deps.hooks ?? {
    authorizeIdentifier: identifiers.authorize,
    useIdentifiers: (order) => identifiers.use(order),
    onIssued: (event) => identifiers.onIssued(event),
    checkIdentifier: identifiers.checkAttested,
  };
  return createAcmeServer(
    {
      ...{ store: deps.store, ca: deps.ca, clock, logger },
      authorizeIdentifier: hooks.authorizeIdentifier,
      useIdentifiers: hooks.useIdentifiers,
      onIssued: hooks.onIssued,
      verifyAttestation: createAppleAttestationVerifier({ checkIdentifier: hooks.checkIdentifier }),
      attestationRoots: deps.attestationRoots ?? appleAttestationRoots(),
    },
    { baseUrl: options.baseUrl, testChallenge: options.testChallenge ?? false },
  );
}
