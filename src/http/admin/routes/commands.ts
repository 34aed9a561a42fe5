/** Admin routes over commands: one command for many enrollments, and one command's state. */
import { createRoute, z } from '@hono/zod-openapi';
import { defineRoute, json, jsonResponse } from '../route.js';
import { encodingParam, idSchema, UuidParams } from '../schemas.js';
import { commandField } from '../validate.js';
import { CommandView, commandView } from '../views.js';
import {
  COMMAND_BODY_LIMIT,
  CommandBody,
  commandContent,
  enqueueAudited,
  notFound,
} from './enrollments.js';

const idsError = 'enrollmentIds must be an array of 1 to 1000 ids';

/** Body of `POST /api/v1/commands`. */
export const BatchBody = z
  .strictObject({
    enrollmentIds: z
      .array(idSchema('enrollmentIds[]'), { error: idsError })
      .min(1, { error: idsError })
      .max(1000, { error: idsError }),
    command: CommandBody,
  })
  .openapi('BatchCommandBody');

const batch = defineRoute({
  auth: 'write',
  plistBody: true,
  bodyLimit: COMMAND_BODY_LIMIT,
  route: createRoute({
    method: 'post',
    path: '/api/v1/commands',
    summary: 'Queue one command for many enrollments (typed JSON or a plist dictionary)',
    request: { body: commandContent(BatchBody) },
    responses: {
      201: jsonResponse('queued', z.object({ commandUuid: z.string() }).openapi('Queued')),
    },
  }),
  async handle(deps, req) {
    const body = req.body;
    const command = commandField(body.command, 'command');
    // One lookup for the batch (not one round trip per id: 1,000 on PostgreSQL).
    const found = new Set(
      (await deps.storage.findEnrollments(body.enrollmentIds)).map((e) => e.id),
    );
    if (body.enrollmentIds.some((id) => !found.has(id))) throw notFound('enrollment');
    return enqueueAudited(deps, req, body.enrollmentIds, command);
  },
});

const one = defineRoute({
  auth: 'read',
  route: createRoute({
    method: 'get',
    path: '/api/v1/commands/{uuid}',
    summary: 'A command with each target status and the decoded device result',
    request: { params: UuidParams, query: z.strictObject({ encoding: encodingParam }) },
    responses: { 200: jsonResponse('the command', CommandView) },
  }),
  async handle(deps, req) {
    const found = await deps.core.findCommand(req.params.uuid);
    if (!found) throw notFound('command');
    return json(200, commandView(found, req.query.encoding ?? 'typed'));
  },
});

/** The command routes. */
export const commandRoutes = [batch, one];
