/**
 * Who an enrollment belongs to (rules M9, M10): when a device first binds its identity, the
 * certificate's issuance record names the enrollment link whose challenge it answered; a
 * personal link's enrollment belongs to the link's user, a generic link's to a new generic user
 * `${genericLinkPrefix}-${n}` of the link's group (with the link's policy id as their own, when
 * it has one), a single link's to nobody.
 */
import type { Logger } from '../logger.js';
import type {
  AuditLog,
  EnrollmentLinkStore,
  EnrollmentOwner,
  EnrollmentTokenRecord,
  UserStore,
} from '../storage/ports.js';

/** The name prefix of generic users when the `enrollment` page cannot be read. */
export const DEFAULT_GENERIC_PREFIX = 'device';

/**
 * What the challenges of enrollment link `id` are bound to, as `linkTarget(id)` of
 * `admin/enrollment-links` spells it (management may not import admin; a test ties the two).
 */
const LINK_TARGET = 'enrollment-token:';

/** A new certificate binding as `withCertAuth` reports it to `onBound` (its `BindingChange`). */
export interface BoundIdentity {
  enrollmentId: string;
  /** `enrollment`, `re-enrollment` or `renewal`. */
  reason: string;
  /** Serial of the bound certificate, lower-case hex without leading zeros. */
  serial: string;
}

/** What {@link enrollmentOwnerObserver} reads and writes. */
export interface EnrollmentOwnerDeps {
  /**
   * The CA's issuance records (the CA itself fits): the bound certificate's record names the link
   * whose challenge it answered in `enrollmentId`.
   */
  issuance: {
    findIssuedCertificate(serial: string): Promise<{ enrollmentId?: string } | undefined>;
  };
  links: Pick<EnrollmentLinkStore, 'findEnrollmentToken'>;
  users: Pick<
    UserStore,
    'findUser' | 'createGenericUser' | 'assignEnrollmentOwner' | 'findEnrollmentOwner'
  >;
  audit: Pick<AuditLog, 'audit'>;
  /** The effective `genericLinkPrefix` of the `enrollment` page at `groupId`. */
  genericPrefix(groupId: string): Promise<string>;
  clock: () => Date;
  logger: Logger;
}

/** The link id a certificate's `enrollmentId` names, or `undefined` for anything else. */
export function linkIdOf(enrollmentId: string | undefined): string | undefined {
  return enrollmentId?.startsWith(LINK_TARGET) === true
    ? enrollmentId.slice(LINK_TARGET.length)
    : undefined;
}

/** The link the certificate of serial `serial` was issued through, or `undefined`. */
async function linkOf(
  deps: EnrollmentOwnerDeps,
  serial: string,
): Promise<EnrollmentTokenRecord | undefined> {
  const issued = await deps.issuance.findIssuedCertificate(serial);
  const id = linkIdOf(issued?.enrollmentId);
  return id === undefined ? undefined : deps.links.findEnrollmentToken(id);
}

/** The owner `link` gives `enrollmentId`, creating a generic user when it is a generic link. */
async function ownerFor(
  deps: EnrollmentOwnerDeps,
  enrollmentId: string,
  link: EnrollmentTokenRecord,
): Promise<(EnrollmentOwner & { username: string; generic: boolean }) | undefined> {
  const base = { enrollmentId, linkId: link.id, assignedAt: deps.clock() };
  if (link.kind === 'personal' && link.userId !== undefined) {
    const user = await deps.users.findUser(link.userId);
    if (user === undefined) return undefined;
    return {
      ...base,
      userId: user.id,
      groupId: user.groupId,
      username: user.username,
      generic: false,
    };
  }
  if (link.kind === 'generic' && link.groupId !== undefined) {
    const user = await deps.users.createGenericUser({
      prefix: await deps.genericPrefix(link.groupId),
      groupId: link.groupId,
      ...(link.policy === undefined ? {} : { policy: link.policy }),
    });
    return {
      ...base,
      userId: user.id,
      groupId: user.groupId,
      username: user.username,
      generic: true,
    };
  }
  return undefined;
}

/**
 * Records who `change.enrollmentId` belongs to when it enrolled (or re-enrolled) through a
 * personal or generic link, and audits it as `enrollment.owner` (actor `device`). Idempotent: an
 * enrollment already owned through the same link keeps its owner (a re-bind never makes a second
 * generic user). Resolves the owner recorded now, or `undefined` when nothing changed; rejects
 * with the stores' errors.
 */
export async function assignOwnerOnBind(
  deps: EnrollmentOwnerDeps,
  change: BoundIdentity,
): Promise<EnrollmentOwner | undefined> {
  if (change.reason === 'renewal') return undefined;
  const link = await linkOf(deps, change.serial);
  if (link === undefined) return undefined;
  const previous = await deps.users.findEnrollmentOwner(change.enrollmentId);
  if (previous?.linkId === link.id) return undefined;
  const found = await ownerFor(deps, change.enrollmentId, link);
  if (found === undefined) return undefined;
  const { username, generic, ...owner } = found;
  await deps.users.assignEnrollmentOwner(owner);
  await deps.audit.audit({
    actor: 'device',
    action: 'enrollment.owner',
    target: owner.enrollmentId,
    detail: {
      ...{ userId: owner.userId, username, groupId: owner.groupId, linkId: link.id },
      ...{ kind: link.kind, generic, serial: change.serial },
      // A generic link's policy (an id) is what the new generic user got as their own.
      ...(generic && link.policy !== undefined ? { policyId: link.policy } : {}),
    },
  });
  return owner;
}

/**
 * The `onBound` observer of `withCertAuth` that runs {@link assignOwnerOnBind}. It never rejects:
 * a failure is logged (the device's check-in has already succeeded and stays so).
 */
export function enrollmentOwnerObserver(
  deps: EnrollmentOwnerDeps,
): (change: BoundIdentity) => Promise<void> {
  return async (change) => {
    try {
      await assignOwnerOnBind(deps, change);
    } catch (error) {
      deps.logger.error(
        { err: error, enrollmentId: change.enrollmentId },
        'recording the owner of an enrollment failed',
      );
    }
  };
}

/**
 * One `onBound` observer calling each of `observers` in order; each failure is logged and the
 * next still runs, and the result never rejects.
 */
export function allObservers<C>(
  logger: Logger,
  ...observers: (((change: C) => void | Promise<void>) | undefined)[]
): (change: C) => Promise<void> {
  return async (change) => {
    for (const observe of observers) {
      try {
        await observe?.(change);
      } catch (error) {
        logger.error({ err: error }, 'certificate binding observer failed');
      }
    }
  };
}
