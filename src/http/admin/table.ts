/**
 * The admin API route table: every route with its method, path template, authentication class
 * and handler. The app matches a route first and applies exactly the authentication that route
 * declares, so auth and handler can never disagree.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { defineRoute, json, jsonResponse, type AdminRoute } from './route.js';
import { adminRoutes } from './routes/admin.js';
import { adminsRoutes } from './routes/admins.js';
import { certificateRoutes } from './routes/certificates.js';
import { commandRoutes } from './routes/commands.js';
import { enrollmentProfileRoutes } from './routes/enrollment-profiles.js';
import { enrollmentRoutes } from './routes/enrollments.js';
import { groupRoutes } from './routes/groups.js';
import { identityRoutes } from './routes/identity.js';
import { policyRoutes } from './routes/policies.js';
import { profileRoutes } from './routes/profiles.js';
import { genericLinkRoutes } from './routes/user-links-generic.js';
import { userLinkRoutes } from './routes/user-links.js';
import { userEnrollmentRoutes } from './routes/user-enrollments.js';
import { userRoutes } from './routes/users.js';

const openapi = defineRoute({
  auth: 'public',
  route: createRoute({
    method: 'get',
    path: '/api/v1/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document',
    responses: {
      200: jsonResponse(
        'the OpenAPI 3.1 document',
        z.record(z.string(), z.unknown()).openapi({ description: 'an OpenAPI 3.1 document' }),
      ),
    },
  }),
  handle: (_deps, _req, api) => json(200, api.document()),
});

/** Every admin route. A test enumerates them and checks each declared authentication. */
export const ROUTES: readonly AdminRoute[] = [
  ...enrollmentRoutes,
  ...enrollmentProfileRoutes,
  ...identityRoutes,
  ...commandRoutes,
  ...certificateRoutes,
  ...adminRoutes,
  ...groupRoutes,
  ...profileRoutes,
  ...policyRoutes,
  ...adminsRoutes,
  ...userRoutes,
  ...userLinkRoutes,
  ...genericLinkRoutes,
  ...userEnrollmentRoutes,
  openapi,
];
