/**
 * Browser sessions of the portal and the console over a {@link WebSessionStore}: a 32-byte
 * random token (base64url) in the cookie, its SHA-256 in the store, an idle and an absolute
 * lifetime per area, and a CSRF token derived from the session token (HMAC-SHA256 keyed by the
 * token over `csrf`), so nothing more is stored and every daemon on the store agrees.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { WebSessionKind, WebSessionRecord, WebSessionStore } from '../storage/ports.js';

/**
 * A signed-in session as a request sees it (the web areas' `ActiveSession`, declared here
 * because the admin domain imports nothing of the HTTP layer).
 */
export interface ActiveSession {
  kind: WebSessionKind;
  /** SHA-256 (hex) of the cookie's token: the store key. */
  idHash: string;
  subjectId: string;
  /** The form token every POST of this session must carry (`_csrf`). */
  csrf: string;
  expiresAt: Date;
}

/** Browser sessions (the web areas' `WebSessions`): create, resume, end, check a form token. */
export interface WebSessions {
  /** Starts a session for `subjectId`; resolves the cookie token and the session. */
  create(
    kind: WebSessionKind,
    subjectId: string,
  ): Promise<{ token: string; session: ActiveSession }>;
  /** The live session of a cookie token (touched), or `undefined` when unknown, expired or of another kind. */
  resume(kind: WebSessionKind, token: string): Promise<ActiveSession | undefined>;
  /** Ends the session of a cookie token (nothing when unknown). */
  end(token: string): Promise<void>;
  /** Whether `presented` is this session's CSRF token (constant-time). */
  checkCsrf(session: ActiveSession, presented: string | undefined): boolean;
}

/** How long a session lasts: idle (since the last request) and absolute (since sign-in). */
export interface SessionLifetime {
  idleSeconds: number;
  absoluteSeconds: number;
}

/** The contract's lifetimes: idle 30 min for both; absolute 12 h (portal), 8 h (console). */
export const DEFAULT_LIFETIMES: Readonly<Record<WebSessionKind, SessionLifetime>> = {
  portal: { idleSeconds: 30 * 60, absoluteSeconds: 12 * 3600 },
  console: { idleSeconds: 30 * 60, absoluteSeconds: 8 * 3600 },
};

/** Options of {@link createWebSessions}. */
export interface WebSessionsOptions {
  store: Pick<
    WebSessionStore,
    | 'createWebSession'
    | 'findWebSession'
    | 'touchWebSession'
    | 'deleteWebSession'
    | 'purgeWebSessions'
  >;
  /** Default `() => new Date()`. */
  clock?: () => Date;
  /** Default node:crypto's `randomBytes`. */
  random?: (n: number) => Buffer;
  lifetimes?: Partial<Record<WebSessionKind, SessionLifetime>>;
  /**
   * A session is written back (touched) at most this often, so a busy page costs one read, not
   * a write per request; default 60 s.
   */
  touchEverySeconds?: number;
  /**
   * Expired sessions are deleted at a sign-in at most this often (so the table stays small with
   * no timer); default 3600 s.
   */
  purgeEverySeconds?: number;
}

/** SHA-256 (hex) of a session token: the store key. */
export const sessionHash = (token: string): string =>
  createHash('sha256').update(token).digest('hex');

/** The CSRF token of a session token: HMAC-SHA256 keyed by the token over `csrf` (base64url). */
export const csrfToken = (token: string): string =>
  createHmac('sha256', token).update('csrf').digest('base64url');

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function active(record: WebSessionRecord, token: string): ActiveSession {
  return {
    kind: record.kind,
    idHash: record.idHash,
    subjectId: record.subjectId,
    csrf: csrfToken(token),
    expiresAt: record.expiresAt,
  };
}

/** Creates the {@link WebSessions} service. */
export function createWebSessions(options: WebSessionsOptions): WebSessions {
  const { store } = options;
  const clock = options.clock ?? (() => new Date());
  const random = options.random ?? randomBytes;
  const touchMs = (options.touchEverySeconds ?? 60) * 1000;
  const purgeMs = (options.purgeEverySeconds ?? 3600) * 1000;
  let purgedAt = -Infinity;
  const purgeIfDue = async (now: Date): Promise<void> => {
    if (now.getTime() - purgedAt < purgeMs) return;
    purgedAt = now.getTime();
    await store.purgeWebSessions(now);
  };
  const life = (kind: WebSessionKind): SessionLifetime =>
    options.lifetimes?.[kind] ?? DEFAULT_LIFETIMES[kind];
  const expiry = (kind: WebSessionKind, createdAt: Date, now: Date): Date => {
    const { idleSeconds, absoluteSeconds } = life(kind);
    const idle = now.getTime() + idleSeconds * 1000;
    return new Date(Math.min(idle, createdAt.getTime() + absoluteSeconds * 1000));
  };
  return {
    async create(kind, subjectId) {
      const token = random(32).toString('base64url');
      const now = clock();
      const record: WebSessionRecord = {
        idHash: sessionHash(token),
        kind,
        subjectId,
        createdAt: now,
        expiresAt: expiry(kind, now, now),
        lastSeenAt: now,
      };
      await purgeIfDue(now);
      await store.createWebSession(record);
      return { token, session: active(record, token) };
    },
    async resume(kind, token) {
      if (!TOKEN.test(token)) return undefined;
      const record = await store.findWebSession(sessionHash(token));
      const now = clock();
      if (record === undefined || record.kind !== kind) return undefined;
      if (record.expiresAt.getTime() <= now.getTime()) {
        await store.deleteWebSession(record.idHash);
        return undefined;
      }
      if (now.getTime() - record.lastSeenAt.getTime() >= touchMs) {
        const expiresAt = expiry(kind, record.createdAt, now);
        if (!(await store.touchWebSession(record.idHash, now, expiresAt))) return undefined;
        return active({ ...record, lastSeenAt: now, expiresAt }, token);
      }
      return active(record, token);
    },
    async end(token) {
      if (TOKEN.test(token)) await store.deleteWebSession(sessionHash(token));
    },
    checkCsrf(session, presented) {
      if (presented === undefined) return false;
      const a = Buffer.from(session.csrf);
      const b = Buffer.from(presented);
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}
