/**
 * `orchard-mdm/admin`: the admin API as a Hono app an embedder mounts in their own app
 * (`app.route('/admin', createAdminApi(deps))`) or serves with its `fetch`, its route table and
 * OpenAPI document, and the administrative domain it runs on (API keys, audit log, enrollment
 * links).
 */
export * from '../../admin/index.js';
export { ADMIN_BODY_LIMIT, createAdminApi, openApiDocument } from './app.js';
export type { AdminApi, AdminApiOptions, AdminBindings, AdminEnv } from './app.js';
export { matchRoute } from './path.js';
export { adminRoute, serveAdminRequest } from './node.js';
export type { AdminRouteOptions } from './node.js';
export type { RouteMatch } from './path.js';
export type {
  AdminAnswer,
  AdminApiContext,
  AdminApiDeps,
  AdminRoute,
  RouteAuth,
  RouteRequest,
} from './route.js';
export { ROUTES } from './table.js';
export { COMMAND_BODY_LIMIT } from './routes/enrollments.js';
export { REVOCATION_REASONS } from './routes/certificates.js';
export type { RevocationReason } from './routes/certificates.js';
export { DEFAULT_REENROLLMENT_SECONDS, MAX_REENROLLMENT_SECONDS } from './routes/identity.js';
export { PLIST_MEDIA_TYPE } from './validate.js';
export type { ResultEncoding } from './validate.js';
