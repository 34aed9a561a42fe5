/**
 * The shared vocabulary of the server-rendered web areas: the self-service portal (`/portal/`)
 * for enrolled users and the console (`/console/`) for administrators. Both are Hono apps on the
 * one HTTP edge, rendered with `hono/html` tagged templates (every interpolation escaped), using
 * the same services the admin API uses, with browser sessions stored in the admin store.
 */
import type { Caller } from '../../admin/principals.js';
import type { Logger } from '../../logger.js';
import type { Mailer } from '../../mail/ports.js';
import type { UserRecord, WebSessionKind } from '../../storage/ports.js';
import type { AdminApiDeps } from '../admin/route.js';

/** A signed-in session as a request sees it. */
export interface ActiveSession {
  kind: WebSessionKind;
  /** SHA-256 (hex) of the cookie's token: the store key. */
  idHash: string;
  subjectId: string;
  /** The form token every POST of this session must carry (`_csrf`), derived from the session token. */
  csrf: string;
  expiresAt: Date;
}

/** Who signed in to the portal: the user, with the session. */
export interface PortalViewer {
  session: ActiveSession;
  user: UserRecord;
}

/** Who signed in to the console: the administrator as the admin API's scope rules see it. */
export interface ConsoleViewer {
  session: ActiveSession;
  /** `keyScope` is `write` for a full administrator, `read` for a read-only one. */
  caller: Caller;
}

/**
 * Browser sessions: a random token in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` behind
 * https), only its hash stored; idle and absolute lifetimes; the CSRF token derived from it.
 */
export interface WebSessions {
  /** Starts a session for `subjectId` and resolves the cookie token and the session. */
  create(
    kind: WebSessionKind,
    subjectId: string,
  ): Promise<{ token: string; session: ActiveSession }>;
  /** The live session of a cookie token (touching it), or `undefined` when unknown or expired. */
  resume(kind: WebSessionKind, token: string): Promise<ActiveSession | undefined>;
  /** Ends the session of a cookie token. */
  end(token: string): Promise<void>;
  /** Whether `presented` is this session's CSRF token (constant-time). */
  checkCsrf(session: ActiveSession, presented: string | undefined): boolean;
}

/**
 * How people prove who they are. Passwords today; an identity provider (OIDC) later adds a
 * method beside this one without changing sessions or pages.
 */
export interface WebAccounts {
  /** The user whose username or e-mail and password match, or `undefined` (same time either way). */
  signInUser(login: string, password: string): Promise<UserRecord | undefined>;
  /** The administrator (enabled) whose name and password match, or `undefined`. */
  signInAdmin(name: string, password: string): Promise<Caller | undefined>;
  /** The administrator an API key belongs to (a read key gives a read-only console). */
  signInAdminWithKey(key: string): Promise<Caller | undefined>;
  /** Mints a one-time password-setup token for a user (for the invitation mail); resolves the token. */
  setupToken(userId: string, ttlSeconds?: number): Promise<string>;
  /** Sets a user's password with a setup token; false when the token is unknown, used or expired. */
  setUserPassword(token: string, password: string): Promise<UserRecord | undefined>;
  /** Sets an administrator's password (the CLI's `orchard admins set-password`). */
  setAdminPassword(principalId: string, password: string): Promise<void>;
}

/** What the portal and the console are built from: the admin API's services plus the web parts. */
export interface WebDeps extends AdminApiDeps {
  sessions: WebSessions;
  accounts: WebAccounts;
  clock: () => Date;
  logger: Logger;
  /** Absent: "send by e-mail" answers that mail is not configured. */
  mailer?: Mailer;
  /** The base URL devices and browsers use (links, QR codes). */
  publicUrl: () => string;
  /** Set cookies `Secure` (the public URL is https). */
  secureCookies: boolean;
}
