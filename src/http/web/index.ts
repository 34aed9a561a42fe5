/**
 * The self-service portal and the administrators' console as a Hono app (`createWebApp`) and as
 * edge routes (`webRoutes`), with the shared vocabulary of both areas.
 */
export { createWebApp, FORM_BODY_LIMIT, UPLOAD_BODY_LIMIT, type WebAppOptions } from './app.js';
export { serveWebRequest, webRoutes } from './node.js';
export {
  CONTENT_SECURITY_POLICY,
  SECURITY_HEADERS,
  type WebBindings,
  type WebEnv,
} from './security.js';
export type {
  ActiveSession,
  ConsoleViewer,
  PortalViewer,
  WebAccounts,
  WebDeps,
  WebSessions,
} from './types.js';
