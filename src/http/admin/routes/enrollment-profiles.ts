/**
 * Admin routes over one device's profiles (rules M6, B1): what it has, wants and was refused,
 * why (the explain trace), a ProfileList reconciliation now, an administrator installing an
 * Optional profile, and removing a profile Orchard installed. Every answer is the delivery
 * service's; devices are not owned by groups yet, so only root-scoped administrators may call.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { audit, defineRoute, json, jsonResponse } from '../route.js';
import { IdParams } from '../schemas.js';
import {
  DeviceInstallBody,
  DeviceProfileRecordView,
  deviceProfileRecordView,
  DeviceProfilesView,
  ExplainTraceView,
  IdIdentifierParams,
} from './enrollment-profiles-views.js';

const Queued = z
  .object({ commandUuid: z.string().openapi({ description: 'the ProfileList queued' }) })
  .openapi('ReconcileQueued');

const list = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/enrollments/{id}/profiles',
    summary:
      "A device's profiles: desired, installed, pending, skipped and blocked (with reasons), failed, offered, removed",
    request: { params: IdParams },
    responses: { 200: jsonResponse("the device's profiles", DeviceProfilesView) },
  }),
  async handle(deps, req) {
    return json(200, await deps.delivery.deviceProfiles(req.params.id));
  },
});

const explain = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/enrollments/{id}/profiles/{identifier}/explain',
    summary:
      'Why a profile is (or is not) on a device: the group chain and its settings, user, policy, assignment, each compatibility check, variables, removal rules (B1)',
    request: { params: IdIdentifierParams },
    responses: { 200: jsonResponse('the decision trace', ExplainTraceView) },
  }),
  async handle(deps, req) {
    return json(200, await deps.delivery.explain(req.params.id, req.params.identifier));
  },
});

const reconcile = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'post',
    path: '/api/v1/enrollments/{id}/profiles/reconcile',
    summary:
      'Queue a ProfileList now and push: when it answers, missing Auto profiles are re-queued; Optional and Interactive ones the user removed stay removed',
    request: { params: IdParams },
    responses: { 202: jsonResponse('queued', Queued) },
  }),
  async handle(deps, req) {
    const { commandUuid } = await deps.delivery.reconcile(req.params.id);
    await audit(deps, req, 'enrollment.profiles.reconcile', req.params.id, { commandUuid });
    return json(202, { commandUuid });
  },
});

const install = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'post',
    path: '/api/v1/enrollments/{id}/profiles',
    summary:
      "Install an Optional profile the device's effective policy offers (409 ERR_PROFILE_NOT_OFFERED otherwise; ERR_PROFILE_INTERACTIVE for an Interactive one)",
    request: {
      params: IdParams,
      body: { required: true, content: { 'application/json': { schema: DeviceInstallBody } } },
    },
    responses: {
      201: jsonResponse('the device profile record (pending)', DeviceProfileRecordView),
    },
  }),
  async handle(deps, req) {
    const record = await deps.delivery.install(req.params.id, req.body.profileId, 'admin');
    await audit(deps, req, 'enrollment.profile.install', req.params.id, {
      ...{ profileId: record.profileId, identifier: record.identifier },
      ...{ version: record.version, commandUuid: record.commandUuid ?? null },
    });
    return json(201, deviceProfileRecordView(record));
  },
});

const remove = defineRoute({
  auth: 'write',
  route: createRoute({
    method: 'delete',
    path: '/api/v1/enrollments/{id}/profiles/{identifier}',
    summary:
      "Queue RemoveProfile for a profile Orchard installed (409 ERR_NOT_INSTALLED_BY_ORCHARD for anyone else's, M6)",
    request: { params: IdIdentifierParams },
    responses: {
      202: jsonResponse('the device profile record (removing)', DeviceProfileRecordView),
    },
  }),
  async handle(deps, req) {
    const { id, identifier } = req.params;
    const record = await deps.delivery.remove(id, identifier, 'admin');
    await audit(deps, req, 'enrollment.profile.remove', id, {
      ...{ profileId: record.profileId, identifier },
      commandUuid: record.commandUuid ?? null,
    });
    return json(202, deviceProfileRecordView(record));
  },
});

/** The routes of a device's profiles; the `reconcile` route precedes `{identifier}` matches. */
export const enrollmentProfileRoutes = [list, reconcile, explain, install, remove];
