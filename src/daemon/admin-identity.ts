/**
 * Admin routes over a device's identity binding: what certificate an enrollment is bound to and
 * when its renewal falls due, a renewal queued now, and a window in which a re-enrolling device
 * may bind a new certificate without its old binding having ended (a wiped or replaced device).
 */
import { IdentityError, type CertBinding } from '../index.js';
import { audit, type AdminDeps, type AdminRoute } from './admin-routes.js';
import { iso } from './admin-views.js';
import { idParam, intField, objectBody } from './admin-validate.js';
import { AdminError, RequestError } from './errors.js';
import { json } from './http-util.js';

/** Default re-enrollment window: one hour. */
export const DEFAULT_REENROLLMENT_SECONDS = 3600;
/** Longest re-enrollment window: seven days. */
export const MAX_REENROLLMENT_SECONDS = 7 * 86_400;

/** The JSON view of a binding, with when its renewal falls due. */
export function bindingView(binding: CertBinding, dueAt: Date | undefined) {
  return {
    enrollmentId: binding.enrollmentId,
    serial: binding.serial ?? null,
    notAfter: iso(binding.notAfter),
    boundAt: binding.boundAt.toISOString(),
    endedAt: iso(binding.endedAt),
    reenrollUntil: iso(binding.reenrollUntil),
    renewalDueAt: iso(dueAt),
    renewal:
      binding.renewal === undefined
        ? null
        : {
            commandUuid: binding.renewal.commandUuid,
            requestedAt: binding.renewal.requestedAt.toISOString(),
          },
  };
}

async function bindingOf(deps: AdminDeps, id: string | undefined): Promise<CertBinding> {
  const enrollmentId = idParam('id', id);
  if ((await deps.storage.findEnrollment(enrollmentId)) === undefined)
    throw new RequestError('ERR_NOT_FOUND', 'enrollment not found');
  const binding = await deps.storage.findCertificateBinding(enrollmentId);
  if (binding === undefined)
    throw new RequestError('ERR_NOT_FOUND', 'no certificate is bound to this enrollment');
  return binding;
}

/** The identity routes of the admin API. */
export const identityRoutes: AdminRoute[] = [
  {
    method: 'GET',
    path: '/api/v1/enrollments/{id}/identity',
    auth: 'read',
    summary: "The enrollment's bound certificate, its renewal and re-enrollment window",
    async handle(deps, req) {
      const binding = await bindingOf(deps, req.params.id);
      return json(200, bindingView(binding, deps.identity.dueAt(binding)));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/enrollments/{id}/identity/renew',
    auth: 'write',
    summary: 'Renew the device identity now: an InstallProfile with a fresh enrollment profile',
    async handle(deps, req) {
      const binding = await bindingOf(deps, req.params.id);
      if (!deps.pushEnabled)
        throw new AdminError('ERR_PUSH_DISABLED', 'no push certificate is configured');
      try {
        const renewal = await deps.identity.renew(binding.enrollmentId);
        audit(deps, req, 'identity.renew', binding.enrollmentId, {
          commandUuid: renewal.commandUuid,
        });
        return json(202, {
          commandUuid: renewal.commandUuid,
          requestedAt: renewal.requestedAt.toISOString(),
        });
      } catch (error) {
        if (error instanceof IdentityError) throw new AdminError('ERR_CONFLICT', error.message);
        throw error;
      }
    },
  },
  {
    method: 'POST',
    path: '/api/v1/enrollments/{id}/identity/reenrollment',
    auth: 'write',
    summary:
      'Let a re-enrolling device bind a new certificate at Authenticate for a while (default 1 h)',
    bodyFields: ['expiresInSeconds'],
    async handle(deps, req) {
      const binding = await bindingOf(deps, req.params.id);
      const body = objectBody(req.body, ['expiresInSeconds'], true);
      const seconds =
        intField(body, 'expiresInSeconds', 60, MAX_REENROLLMENT_SECONDS) ??
        DEFAULT_REENROLLMENT_SECONDS;
      const until = new Date(Date.now() + seconds * 1000);
      await deps.storage.allowReenrollment(binding.enrollmentId, until);
      audit(deps, req, 'identity.reenrollment.allow', binding.enrollmentId, {
        reenrollUntil: until.toISOString(),
      });
      return json(200, { reenrollUntil: until.toISOString() });
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/enrollments/{id}/identity/reenrollment',
    auth: 'write',
    summary: 'Close the re-enrollment window',
    async handle(deps, req) {
      const binding = await bindingOf(deps, req.params.id);
      await deps.storage.allowReenrollment(binding.enrollmentId, undefined);
      audit(deps, req, 'identity.reenrollment.close', binding.enrollmentId);
      return json(200, { reenrollUntil: null });
    },
  },
];
