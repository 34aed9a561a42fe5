/**
 * The administrative domain as library parts, usable without the daemon: API keys, the audit
 * log, enrollment links and the enrollment profiles they serve. Each part depends on a narrow
 * store port (`ApiKeyStore`, `AuditLog`, `EnrollmentLinkStore`).
 */
export {
  API_KEY_PREFIX,
  authenticate,
  bearerKey,
  createApiKey,
  ensureApiKey,
  generateApiKey,
  hashApiKey,
} from './api-keys.js';
export { recordAudit } from './audit.js';
export {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  passwordProblem,
  verifyPassword,
} from './passwords.js';
export { createWebAccounts, SETUP_TOKEN_TTL_SECONDS } from './web-accounts.js';
export type { WebAccountsOptions } from './web-accounts.js';
export { createWebSessions, DEFAULT_LIFETIMES } from './web-sessions.js';
export type { SessionLifetime, WebSessionsOptions } from './web-sessions.js';
export { identityAuditObservers } from './identity-audit.js';
export type { AuditInput } from './audit.js';
export {
  DEFAULT_TOKEN_TTL_SECONDS,
  issueEnrollmentToken,
  linkChallengeTtl,
  linkTarget,
  newTokenSecret,
  withEnrollmentLinks,
} from './enrollment-links.js';
export type { CreateTokenInput } from './enrollment-links.js';
export {
  createEnrollmentService,
  DEFAULT_CHALLENGE_TTL_SECONDS,
  PUSH_CERTIFICATE_HELP,
  PUSH_CERTIFICATE_STEPS,
  PUSH_TOPIC_META,
} from './enrollment-service.js';
export type {
  EnrollmentService,
  EnrollmentServiceDeps,
  ProfileSigner,
} from './enrollment-service.js';
export {
  ALL_ACCESS_RIGHTS,
  buildEnrollmentProfile,
  ENROLLMENT_PROFILE_IDENTIFIER,
  enrollmentProfileErrors,
  isHttpsOnlyIssue,
  scepCaFingerprint,
  signEnrollmentProfile,
} from './enrollment-profile.js';
export type { EnrollmentProfileInput } from './enrollment-profile.js';
export { adminView, apiKeyView, tokenView } from './views.js';
export type { AdminJson, ApiKeyJson, EnrollmentTokenJson } from './views.js';
export {
  authorizeAdmin,
  authorizeGroup,
  canEdit,
  canSee,
  checkAdminChange,
  checkAdminDisable,
  checkKeyFor,
  checkKeyListing,
  checkKeyScope,
  isGlobalCaller,
  mayWrite,
} from './principals.js';
export type { Access, Caller } from './principals.js';
