/**
 * The one place the console meets the web foundation (`../layout.ts`, `../security.ts`): the
 * page frame, notices, the hidden CSRF field, session cookies and the middleware that resumes a
 * console session (and refuses a POST without its CSRF token).
 */
export { notice, page, signOutForm, type Markup } from '../layout.js';
export {
  clearSessionCookie,
  csrfField,
  requireConsole,
  sameOrigin,
  sessionToken,
  setSessionCookie,
  type WebEnv,
} from '../security.js';
