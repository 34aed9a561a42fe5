/**
 * The shared vocabulary of the server-rendered web areas: the self-service portal (`/portal/`)
 * for enrolled users and the console (`/console/`) for administrators. Both are Hono apps on the
 * one HTTP edge, rendered with `hono/html` tagged templates (every interpolation escaped), using
 * the same services the admin API uses, with browser sessions stored in the admin store.
 */
import type { Caller } from '../../admin/principals.js';
import type { ActiveSession, WebSessions } from '../../admin/web-sessions.js';
import type { WebAccounts } from '../../admin/web-accounts.js';

export type { ActiveSession, WebSessions } from '../../admin/web-sessions.js';
export type { WebAccounts } from '../../admin/web-accounts.js';
import type { Logger } from '../../logger.js';
import type { Mailer } from '../../mail/ports.js';
import type { UserRecord } from '../../storage/ports.js';
import type { AdminApiDeps } from '../admin/route.js';

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
