/**
 * Admin routes over a device's identity binding: what certificate an enrollment is bound to and
 * when its renewal falls due, a renewal queued now, and a window in which a re-enrolling device
 * may bind a new certificate without its old binding having ended (a wiped or replaced device).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { AdminError, IdentityError, RequestError } from '../../../errors.js';
import type { CertBinding } from '../../../storage/ports.js';
import { audit, defineRoute, json, jsonResponse, type AdminApiDeps } from '../route.js';
import { IdParams, Instant } from '../schemas.js';
import { iso } from '../views.js';

/** Default re-enrollment window: one hour. */
export const DEFAULT_REENROLLMENT_SECONDS = 3600;
/** Longest re-enrollment window: seven days. */
export const MAX_REENROLLMENT_SECONDS = 7 * 86_400;

/** The JSON view of a binding. */
export const BindingView = z
  .object({
    enrollmentId: z.string(),
    serial: z.string().nullable(),
    notAfter: Instant,
    boundAt: z.string().openapi({ format: 'date-time' }),
    endedAt: Instant,
    reenrollUntil: Instant,
    renewalDueAt: Instant,
    renewal: z
      .object({ commandUuid: z.string(), requestedAt: z.string().openapi({ format: 'date-time' }) })
      .nullable(),
  })
  .openapi('IdentityBinding');

/** The JSON view of a binding, with when its renewal falls due. */
export function bindingView(
  binding: CertBinding,
  dueAt: Date | undefined,
): z.infer<typeof BindingView> {
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

async function bindingOf(deps: Pick<AdminApiDeps, 'storage'>, id: string): Promise<CertBinding> {
  if ((await deps.storage.findEnrollment(id)) === undefined)
    throw new RequestError('ERR_NOT_FOUND', 'enrollment not found');
  const binding = await deps.storage.findCertificateBinding(id);
  if (binding === undefined)
    throw new RequestError('ERR_NOT_FOUND', 'no certificate is bound to this enrollment');
  return binding;
}

const ReenrollUntil = z.object({ reenrollUntil: Instant });

const show = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/enrollments/{id}/identity',
    summary: "The enrollment's bound certificate, its renewal and re-enrollment window",
    request: { params: IdParams },
    responses: { 200: jsonResponse('the binding', BindingView) },
  }),
  async handle(deps, req) {
    const binding = await bindingOf(deps, req.params.id);
    return json(200, bindingView(binding, deps.identity.dueAt(binding)));
  },
});

const renew = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'post',
    path: '/api/v1/enrollments/{id}/identity/renew',
    summary: 'Renew the device identity now: an InstallProfile with a fresh enrollment profile',
    request: { params: IdParams },
    responses: {
      202: jsonResponse(
        'renewal queued',
        z.object({
          commandUuid: z.string(),
          requestedAt: z.string().openapi({ format: 'date-time' }),
        }),
      ),
    },
  }),
  async handle(deps, req) {
    const binding = await bindingOf(deps, req.params.id);
    if (!deps.pushEnabled)
      throw new AdminError('ERR_PUSH_DISABLED', 'no push certificate is configured');
    try {
      const renewal = await deps.identity.renew(binding.enrollmentId);
      await audit(deps, req, 'identity.renew', binding.enrollmentId, {
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
});

const secondsError = `expiresInSeconds must be an integer from 60 to ${MAX_REENROLLMENT_SECONDS}`;

const allow = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'post',
    path: '/api/v1/enrollments/{id}/identity/reenrollment',
    summary:
      'Let a re-enrolling device bind a new certificate at Authenticate for a while (default 1 h)',
    request: {
      params: IdParams,
      body: {
        required: false,
        content: {
          'application/json': {
            schema: z.strictObject({
              expiresInSeconds: z
                .number({ error: secondsError })
                .int({ error: secondsError })
                .min(60, { error: secondsError })
                .max(MAX_REENROLLMENT_SECONDS, { error: secondsError })
                .optional(),
            }),
          },
        },
      },
    },
    responses: { 200: jsonResponse('the window', ReenrollUntil) },
  }),
  async handle(deps, req) {
    const binding = await bindingOf(deps, req.params.id);
    const seconds = req.body?.expiresInSeconds ?? DEFAULT_REENROLLMENT_SECONDS;
    const until = new Date(Date.now() + seconds * 1000);
    await deps.storage.allowReenrollment(binding.enrollmentId, until);
    await audit(deps, req, 'identity.reenrollment.allow', binding.enrollmentId, {
      reenrollUntil: until.toISOString(),
    });
    return json(200, { reenrollUntil: until.toISOString() });
  },
});

const close = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'delete',
    path: '/api/v1/enrollments/{id}/identity/reenrollment',
    summary: 'Close the re-enrollment window',
    request: { params: IdParams },
    responses: { 200: jsonResponse('closed', ReenrollUntil) },
  }),
  async handle(deps, req) {
    const binding = await bindingOf(deps, req.params.id);
    await deps.storage.allowReenrollment(binding.enrollmentId, undefined);
    await audit(deps, req, 'identity.reenrollment.close', binding.enrollmentId);
    return json(200, { reenrollUntil: null });
  },
});

/** The identity routes. */
export const identityRoutes = [show, renew, allow, close];
