/**
 * What becomes of identity binding decisions: every refused takeover and every certificate that
 * took over an enrollment (renewal, re-enrollment) becomes an audit entry and an announced event.
 */
import type { CertAuthDeps } from '../service/cert-auth.js';
import type { MdmCore } from '../service/core.js';
import type { AuditLog } from '../storage/ports.js';

/**
 * The `onBound`/`onRefused` observers of `withCertAuth` that audit (actor `device`, action
 * `identity.refused`, `identity.renewal`, ...) and announce (`identity-refused`,
 * `identity-rebound`) each decision; a first enrollment is neither.
 */
export function identityAuditObservers(
  core: Pick<MdmCore, 'findEnrollment' | 'announce'>,
  log: AuditLog,
): Pick<CertAuthDeps, 'onBound' | 'onRefused'> {
  const channel = async (enrollmentId: string) => {
    const found = await core.findEnrollment(enrollmentId);
    return found ?? { id: enrollmentId, type: 'device' as const, deviceId: enrollmentId };
  };
  return {
    async onRefused(refusal) {
      await log.audit({
        actor: 'device',
        action: 'identity.refused',
        target: refusal.enrollmentId,
        detail: { reason: refusal.reason, serial: refusal.serial },
      });
      await core.announce(await channel(refusal.enrollmentId), {
        type: 'identity-refused',
        reason: refusal.reason,
        serial: refusal.serial,
      });
    },
    async onBound(change) {
      if (change.reason === 'enrollment') return;
      await log.audit({
        actor: 'device',
        action: `identity.${change.reason}`,
        target: change.enrollmentId,
        detail: { serial: change.serial, previousSerial: change.previousSerial ?? null },
      });
      await core.announce(await channel(change.enrollmentId), {
        type: 'identity-rebound',
        reason: change.reason,
        serial: change.serial,
        ...(change.previousSerial === undefined ? {} : { previousSerial: change.previousSerial }),
      });
    },
  };
}
