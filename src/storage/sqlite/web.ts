/**
 * Browser sessions, passwords and password-setup tokens in SQLite (migration 10). Consuming a
 * setup token is one conditional UPDATE, so of two daemons racing for a token only one wins.
 */
import type {
  CredentialStore,
  CredentialSubject,
  PasswordRecord,
  SetupTokenRecord,
  WebSessionKind,
  WebSessionRecord,
  WebSessionStore,
} from '../ports.js';
import { adminGuard } from './admin-util.js';
import { stmt, type SqliteContext } from './db.js';

interface SessionRow {
  id_hash: string;
  kind: WebSessionKind;
  subject_id: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

interface PasswordRow {
  subject: CredentialSubject;
  subject_id: string;
  hash: string;
  updated_at: number;
}

interface TokenRow {
  hash: string;
  subject: CredentialSubject;
  subject_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

const sessionRecord = (r: SessionRow): WebSessionRecord => ({
  idHash: r.id_hash,
  kind: r.kind,
  subjectId: r.subject_id,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
  lastSeenAt: new Date(r.last_seen_at),
});

const passwordRecord = (r: PasswordRow): PasswordRecord => ({
  subject: r.subject,
  subjectId: r.subject_id,
  hash: r.hash,
  updatedAt: new Date(r.updated_at),
});

function tokenRecord(r: TokenRow): SetupTokenRecord {
  const out: SetupTokenRecord = {
    hash: r.hash,
    subject: r.subject,
    subjectId: r.subject_id,
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
  };
  if (r.used_at !== null) out.usedAt = new Date(r.used_at);
  return out;
}

/** Runs an INSERT, turning a primary-key clash into TypeError (`what` names the record). */
function insertOnce(run: () => unknown, what: string): void {
  try {
    run();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE')
      throw new TypeError(`duplicate ${what}`, { cause: error });
    throw error;
  }
}

/** The {@link WebSessionStore} on a connection context. */
export function sqliteWebSessions(ctx: SqliteContext): WebSessionStore {
  const guard = <T>(fn: () => T): Promise<T> => adminGuard(ctx, fn);
  return {
    createWebSession: (r) =>
      guard(() => {
        const sql = `INSERT INTO orchard_web_sessions
          (id_hash, kind, subject_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)`;
        const values = [r.idHash, r.kind, r.subjectId, r.createdAt.getTime()] as const;
        const times = [r.expiresAt.getTime(), r.lastSeenAt.getTime()] as const;
        insertOnce(() => stmt(ctx, sql).run(...values, ...times), 'web session');
      }),
    findWebSession: (idHash) =>
      guard(() => {
        const sql = 'SELECT * FROM orchard_web_sessions WHERE id_hash = ?';
        const row = stmt(ctx, sql).get(idHash) as SessionRow | undefined;
        return row && sessionRecord(row);
      }),
    touchWebSession: (idHash, lastSeenAt, expiresAt) =>
      guard(() => {
        const sql =
          'UPDATE orchard_web_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?';
        return stmt(ctx, sql).run(lastSeenAt.getTime(), expiresAt.getTime(), idHash).changes > 0;
      }),
    deleteWebSession: (idHash) =>
      guard(
        () =>
          stmt(ctx, 'DELETE FROM orchard_web_sessions WHERE id_hash = ?').run(idHash).changes > 0,
      ),
    deleteWebSessionsOf: (kind, subjectId) =>
      guard(() => {
        const sql = 'DELETE FROM orchard_web_sessions WHERE kind = ? AND subject_id = ?';
        return stmt(ctx, sql).run(kind, subjectId).changes;
      }),
    purgeWebSessions: (now) =>
      guard(() => {
        const sql = 'DELETE FROM orchard_web_sessions WHERE expires_at < ?';
        return stmt(ctx, sql).run(now.getTime()).changes;
      }),
  };
}

/** The {@link CredentialStore} on a connection context. */
export function sqliteCredentials(ctx: SqliteContext): CredentialStore {
  const guard = <T>(fn: () => T): Promise<T> => adminGuard(ctx, fn);
  return {
    setPassword: (r) =>
      guard(() => {
        const sql = `INSERT INTO orchard_passwords (subject, subject_id, hash, updated_at)
          VALUES (?, ?, ?, ?) ON CONFLICT (subject, subject_id)
          DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`;
        stmt(ctx, sql).run(r.subject, r.subjectId, r.hash, r.updatedAt.getTime());
      }),
    findPassword: (subject, subjectId) =>
      guard(() => {
        const sql = 'SELECT * FROM orchard_passwords WHERE subject = ? AND subject_id = ?';
        const row = stmt(ctx, sql).get(subject, subjectId) as PasswordRow | undefined;
        return row && passwordRecord(row);
      }),
    deletePassword: (subject, subjectId) =>
      guard(() => {
        const sql = 'DELETE FROM orchard_passwords WHERE subject = ? AND subject_id = ?';
        return stmt(ctx, sql).run(subject, subjectId).changes > 0;
      }),
    createSetupToken: (r) =>
      guard(() => {
        const sql = `INSERT INTO orchard_password_setup_tokens
          (hash, subject, subject_id, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?)`;
        const used = r.usedAt === undefined ? null : r.usedAt.getTime();
        const values = [r.hash, r.subject, r.subjectId, r.createdAt.getTime()] as const;
        insertOnce(() => stmt(ctx, sql).run(...values, r.expiresAt.getTime(), used), 'setup token');
      }),
    consumeSetupToken: (hash, now) =>
      guard(() => {
        const sql = `UPDATE orchard_password_setup_tokens SET used_at = ?
          WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING *`;
        const row = stmt(ctx, sql).get(now.getTime(), hash, now.getTime()) as TokenRow | undefined;
        return row && tokenRecord(row);
      }),
  };
}
