/**
 * Admin routes over the profile library (`/api/v1/profiles`): upload, list, read, change and
 * delete profiles owned by organization groups. Every route is scoped (A12): a caller sees
 * profiles owned at, below or above its scope group and changes those at or below it.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { authorizeGroup } from '../../../admin/principals.js';
import { callerOf, audit, defineRoute, json, jsonResponse } from '../route.js';
import { IdParams, idSchema, page, PageQuery } from '../schemas.js';
import { badField } from '../validate.js';
import { listOwned, pageJson } from './owned-list.js';
import { profileVersionRoutes, UploadedView, uploadedView } from './profiles-versions.js';
import {
  AssignmentTypeField,
  descriptionView,
  LibraryProfileView,
  libraryProfileView,
  Mobileconfig,
  mobileconfigBytes,
  PROFILE_BODY_LIMIT,
  ProfileDescriptionView,
  ProfileVersionView,
  profileVersionView,
  visibleProfile,
} from './profiles-views.js';

const name = z
  .string({ error: 'name must be a non-empty string' })
  .min(1, { error: 'name must be a non-empty string' })
  .max(256, { error: 'name is too long' });

/** Body of `POST /api/v1/profiles`. */
export const ProfileUploadBody = z
  .strictObject({
    groupId: idSchema('groupId').openapi({ description: 'the owning organization group' }),
    assignmentType: AssignmentTypeField.optional(),
    name: name.optional().openapi({ description: 'default PayloadDisplayName' }),
    mobileconfig: Mobileconfig,
  })
  .openapi('ProfileUpload');

/** Body of `PATCH /api/v1/profiles/{id}`. */
export const ProfileUpdateBody = z
  .strictObject({
    name: name.optional(),
    assignmentType: AssignmentTypeField.optional(),
    groupId: idSchema('groupId').optional().openapi({
      description: 'a new owner; the caller must be able to change both owners',
    }),
  })
  .openapi('ProfileUpdate');

const ListQuery = PageQuery.extend({
  groupId: idSchema('groupId').optional().openapi({ description: 'only profiles owned here' }),
});

const DetailView = LibraryProfileView.extend({
  latest: ProfileVersionView,
  ...ProfileDescriptionView.shape,
}).openapi('LibraryProfileDetail');

const upload = defineRoute({
  auth: 'write',
  scoped: true,
  bodyLimit: PROFILE_BODY_LIMIT,
  route: createRoute({
    method: 'post',
    path: '/api/v1/profiles',
    summary:
      "Upload a .mobileconfig (plain or signed) owned by a group; validated against Apple's schema (422 with issues)",
    request: {
      body: { required: true, content: { 'application/json': { schema: ProfileUploadBody } } },
    },
    responses: { 201: jsonResponse('the profile with its version 1', UploadedView) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const body = req.body;
    authorizeGroup(await deps.groups.tree(), caller, body.groupId, 'write');
    const result = await deps.profiles.upload({
      groupId: body.groupId,
      content: mobileconfigBytes(body.mobileconfig),
      ...(body.assignmentType === undefined ? {} : { assignmentType: body.assignmentType }),
      ...(body.name === undefined ? {} : { name: body.name }),
      actor: caller.principal.id,
    });
    const { profile, version } = result;
    await audit(deps, req, 'profile.create', profile.id, {
      ...{ groupId: profile.groupId, identifier: profile.identifier },
      ...{ assignmentType: profile.assignmentType, payloadUuid: version.payloadUuid },
    });
    return json(201, uploadedView(deps, result));
  },
});

const list = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/profiles',
    summary: 'Profiles the caller sees: owned at, below or above its scope group (paginated)',
    request: { query: ListQuery },
    responses: { 200: jsonResponse('a page of profiles', page(LibraryProfileView)) },
  }),
  async handle(deps, req) {
    const result = await listOwned(deps, callerOf(req), req.query, (options) =>
      deps.profiles.list(options),
    );
    return json(200, pageJson(result, libraryProfileView));
  },
});

const one = defineRoute({
  auth: 'read',
  scoped: true,
  route: createRoute({
    method: 'get',
    path: '/api/v1/profiles/{id}',
    summary: "A profile with its latest version's compatibility summary and removal rules",
    request: { params: IdParams },
    responses: { 200: jsonResponse('the profile', DetailView) },
  }),
  async handle(deps, req) {
    const { profile } = await visibleProfile(deps, callerOf(req), req.params.id, 'read');
    const latest = await deps.profiles.read(profile.id);
    return json(200, {
      ...libraryProfileView(latest.profile),
      latest: profileVersionView(latest.version),
      ...descriptionView(deps.profiles.describe(latest.content)),
    });
  },
});

const update = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'patch',
    path: '/api/v1/profiles/{id}',
    summary:
      'Rename a profile, change its assignment type (A13: 422 when Interactive is disabled) or its owner',
    request: {
      params: IdParams,
      body: { required: true, content: { 'application/json': { schema: ProfileUpdateBody } } },
    },
    responses: { 200: jsonResponse('the updated profile', LibraryProfileView) },
  }),
  async handle(deps, req) {
    const caller = callerOf(req);
    const body = req.body;
    if (Object.keys(body).length === 0)
      throw badField('body', 'give at least one of name, assignmentType, groupId');
    const { profile, tree } = await visibleProfile(deps, caller, req.params.id, 'write');
    if (body.groupId !== undefined) authorizeGroup(tree, caller, body.groupId, 'write');
    const updated = await deps.profiles.update(profile.id, {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.assignmentType === undefined ? {} : { assignmentType: body.assignmentType }),
      ...(body.groupId === undefined ? {} : { groupId: body.groupId }),
    });
    await audit(deps, req, 'profile.update', profile.id, { ...body, from: profile.groupId });
    return json(200, libraryProfileView(updated));
  },
});

const remove = defineRoute({
  auth: 'write',
  scoped: true,
  route: createRoute({
    method: 'delete',
    path: '/api/v1/profiles/{id}',
    summary: 'Delete a profile and its versions (installed copies stay on devices)',
    request: { params: IdParams },
    responses: { 200: jsonResponse('deleted', z.object({ deleted: z.literal(true) })) },
  }),
  async handle(deps, req) {
    const { profile } = await visibleProfile(deps, callerOf(req), req.params.id, 'write');
    await deps.profiles.delete(profile.id);
    await audit(deps, req, 'profile.delete', profile.id, {
      groupId: profile.groupId,
      identifier: profile.identifier,
    });
    return json(200, { deleted: true });
  },
});

/** The profile library routes. */
export const profileRoutes = [upload, list, one, update, remove, ...profileVersionRoutes];
