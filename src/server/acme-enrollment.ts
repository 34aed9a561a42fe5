/**
 * ACME enrollment wired from opened parts: the store-backed one-time ClientIdentifiers, what the
 * enrollment service needs to hand out the ACME payload where the `enrollment` page selects it,
 * the hooks the ACME server takes (who may order, the attested-device check, using a value up at
 * the first finalize and spending its enrollment link, recording the attested device), and the
 * MDM core's attested-identity check. `createOrchardServices` calls {@link createAcmeEnrollment}
 * when it is given `acmeIdentifiers`; the daemon spreads `services.acmeEnrollment.serverHooks` into
 * `createAcmeServer`'s deps.
 */
import type { AcmeClientIdentifiers } from '../acme/client-identifiers.js';
import type { AttestationIdentifierCheck } from '../acme/attestation.js';
import type { AcmeServerDeps } from '../acme/types.js';
import type { EnrollmentAcmeDeps } from '../admin/enrollment-service.js';
import { recordAudit } from '../admin/audit.js';
import type { Logger } from '../logger.js';
import { withAttestedIdentity } from '../service/attested-identity.js';
import type { MdmService } from '../service/ports.js';
import type {
  AcmeOrderRecord,
  AuditLog,
  EnrollmentLinkStore,
  MdmStorage,
} from '../storage/ports.js';

const LINK_TARGET = 'enrollment-token:';

/** The parts {@link createAcmeEnrollment} wires. */
export interface AcmeEnrollmentDeps {
  /** The one-time ClientIdentifiers (`createAcmeClientIdentifiers` over the database's store). */
  identifiers: AcmeClientIdentifiers;
  /** Enrollment links (an ACME certificate spends its link like a SCEP one) and the audit log. */
  links: Pick<EnrollmentLinkStore, 'redeemEnrollmentToken'> & Pick<AuditLog, 'audit'>;
  /** The serial Orchard knows for a UDID: the device's Authenticate facts. */
  enrollments: Pick<MdmStorage, 'findEnrollment'>;
  /** The effective `enrollment` settings page of a group. */
  enrollmentSettings(groupId: string): Promise<Readonly<Record<string, unknown>>>;
  clock: () => Date;
  logger: Logger;
}

/** The ACME server's hooks of one-time ClientIdentifiers (spread into `createAcmeServer`'s deps). */
export type AcmeEnrollmentHooks = Required<
  Pick<AcmeServerDeps, 'authorizeIdentifier' | 'useIdentifiers' | 'onIssued'>
> & {
  /** The attestation verifier's `checkIdentifier` (`createAppleAttestationVerifier`). */
  checkIdentifier: AttestationIdentifierCheck;
};

/** What {@link createAcmeEnrollment} returns. */
export interface AcmeEnrollment {
  /** The enrollment service's `acme` dependency. */
  enrollment: EnrollmentAcmeDeps;
  /** The ACME server's hooks. */
  serverHooks: AcmeEnrollmentHooks;
  /** `next` behind the attested-identity check (wrap it inside `withCertAuth`). */
  withAttestedIdentity(next: MdmService): MdmService;
}

/**
 * Spends the enrollment link an order was for (as an accepted SCEP challenge does): false when
 * the link is revoked, expired, or single use and already enrolled with.
 */
async function spendLink(deps: AcmeEnrollmentDeps, order: AcmeOrderRecord): Promise<boolean> {
  const target = order.enrollmentId;
  if (target?.startsWith(LINK_TARGET) !== true) return true;
  const id = target.slice(LINK_TARGET.length);
  const link = await deps.links.redeemEnrollmentToken(id, deps.clock());
  if (link === undefined) return false;
  await recordAudit(deps.links, 'device', 'enrollment-token.enroll', id, {
    enrollments: link.enrollments,
    identity: 'acme',
  }).catch((error: unknown) => {
    deps.logger.error({ err: error, linkId: id }, 'audit of an enrollment failed');
  });
  return true;
}

/** Wires ACME enrollment over the one-time ClientIdentifiers. */
export function createAcmeEnrollment(deps: AcmeEnrollmentDeps): AcmeEnrollment {
  const { identifiers } = deps;
  const knownSerialOf = async (udid: string): Promise<string | undefined> => {
    const serial = (await deps.enrollments.findEnrollment(udid))?.facts.SerialNumber;
    return typeof serial === 'string' ? serial : undefined;
  };
  return {
    enrollment: {
      enrollmentSettings: (groupId) => deps.enrollmentSettings(groupId),
      issueClientIdentifier: (input) => identifiers.issue(input),
    },
    serverHooks: {
      authorizeIdentifier: identifiers.authorize,
      checkIdentifier: identifiers.checkAttested,
      useIdentifiers: async (order) =>
        (await identifiers.use(order)) && (await spendLink(deps, order)),
      onIssued: (event) => identifiers.onIssued(event),
    },
    withAttestedIdentity: (next) =>
      withAttestedIdentity(next, {
        attestedDeviceOf: (serial) => identifiers.attestedDeviceOf(serial),
        knownSerialOf,
        logger: deps.logger,
      }),
  };
}
