/**
 * Browser sessions, passwords and password-setup tokens in PostgreSQL (`orchard_web_sessions`,
 * `orchard_passwords`, `orchard_password_setup_tokens`). Every one-time step is one statement
 * that changes a row only if it is still in the expected state: consuming a setup token is a
 * conditional `UPDATE ... RETURNING`, ending a session a `DELETE` whose row count says who ended
 * it, so of several daemons racing for a token or a session exactly one wins.
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
import { isUniqueViolation, one, op, run, setIf, type PgContext, type Queryable } from './db.js';

interface SessionRow {
  id_hash: string;
  kind: WebSessionKind;
  subject_id: string;
  created_at: Date;
  expires_at: Date;
  last_seen_at: Date;
}

interface PasswordRow {
  subject: CredentialSubject;
  subject_id: string;
  hash: string;
  updated_at: Date;
}

interface TokenRow {
  hash: string;
  subject: CredentialSubject;
  subject_id: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

const sessionRecord = (r: SessionRow): WebSessionRecord => ({
  idHash: r.id_hash,
  kind: r.kind,
  subjectId: r.subject_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastSeenAt: r.last_seen_at,
});

const passwordRecord = (r: PasswordRow): PasswordRecord => ({
  subject: r.subject,
  subjectId: r.subject_id,
  hash: r.hash,
  updatedAt: r.updated_at,
});

function tokenRecord(r: TokenRow): SetupTokenRecord {
  const out: SetupTokenRecord = {
    hash: r.hash,
    subject: r.subject,
    subjectId: r.subject_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
  setIf(out, 'usedAt', r.used_at);
  return out;
}

/** Runs an INSERT, turning a primary-key clash into TypeError (`what` names the record). */
async function insertOnce(
  on: Queryable,
  sql: string,
  values: readonly unknown[],
  what: string,
): Promise<void> {
  try {
    await run(on, sql, values);
  } catch (error) {
    if (isUniqueViolation(error)) throw new TypeError(`duplicate ${what}`, { cause: error });
    throw error;
  }
}

const SESSIONS = 'orchard_web_sessions';
const SESSION_COLUMNS = 'id_hash, kind, subject_id, created_at, expires_at, last_seen_at';
const CREATE_SESSION = `INSERT INTO ${SESSIONS} (${SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`;
const FIND_SESSION = `SELECT ${SESSION_COLUMNS} FROM ${SESSIONS} WHERE id_hash = $1`;
const TOUCH_SESSION = `UPDATE ${SESSIONS} SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3`;

/** The {@link WebSessionStore} on a context. */
export function pgWebSessions(ctx: PgContext): WebSessionStore {
  return {
    createWebSession: (r) =>
      op(ctx, async () => {
        const values = [r.idHash, r.kind, r.subjectId, r.createdAt, r.expiresAt, r.lastSeenAt];
        await insertOnce(ctx.pool, CREATE_SESSION, values, 'web session');
      }),
    findWebSession: (idHash) =>
      op(ctx, async () => {
        const row = await one<SessionRow>(ctx.pool, FIND_SESSION, [idHash]);
        return row && sessionRecord(row);
      }),
    touchWebSession: (idHash, lastSeenAt, expiresAt) =>
      op(
        ctx,
        async () => (await run(ctx.pool, TOUCH_SESSION, [lastSeenAt, expiresAt, idHash])) > 0,
      ),
    deleteWebSession: (idHash) =>
      op(ctx, async () => {
        const sql = `DELETE FROM ${SESSIONS} WHERE id_hash = $1`;
        return (await run(ctx.pool, sql, [idHash])) > 0;
      }),
    deleteWebSessionsOf: (kind, subjectId) =>
      op(ctx, () =>
        run(ctx.pool, `DELETE FROM ${SESSIONS} WHERE kind = $1 AND subject_id = $2`, [
          kind,
          subjectId,
        ]),
      ),
    purgeWebSessions: (now) =>
      op(ctx, () => run(ctx.pool, `DELETE FROM ${SESSIONS} WHERE expires_at < $1`, [now])),
  };
}

const PASSWORDS = 'orchard_passwords';
const TOKENS = 'orchard_password_setup_tokens';
const TOKEN_COLUMNS = 'hash, subject, subject_id, created_at, expires_at, used_at';
const SET_PASSWORD = `INSERT INTO ${PASSWORDS} (subject, subject_id, hash, updated_at)
  VALUES ($1, $2, $3, $4) ON CONFLICT (subject, subject_id)
  DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`;
const FIND_PASSWORD = `SELECT subject, subject_id, hash, updated_at FROM ${PASSWORDS}
  WHERE subject = $1 AND subject_id = $2`;
const CREATE_TOKEN = `INSERT INTO ${TOKENS} (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`;
// A second consumer waits for the first's row lock, then re-checks `used_at` and finds it set.
const CONSUME_TOKEN = `UPDATE ${TOKENS} SET used_at = $1
  WHERE hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING ${TOKEN_COLUMNS}`;

/** The {@link CredentialStore} on a context. */
export function pgCredentials(ctx: PgContext): CredentialStore {
  return {
    setPassword: (r) =>
      op(ctx, async () => {
        await run(ctx.pool, SET_PASSWORD, [r.subject, r.subjectId, r.hash, r.updatedAt]);
      }),
    findPassword: (subject, subjectId) =>
      op(ctx, async () => {
        const row = await one<PasswordRow>(ctx.pool, FIND_PASSWORD, [subject, subjectId]);
        return row && passwordRecord(row);
      }),
    deletePassword: (subject, subjectId) =>
      op(ctx, async () => {
        const sql = `DELETE FROM ${PASSWORDS} WHERE subject = $1 AND subject_id = $2`;
        return (await run(ctx.pool, sql, [subject, subjectId])) > 0;
      }),
    createSetupToken: (r) =>
      op(ctx, async () => {
        const values = [r.hash, r.subject, r.subjectId, r.createdAt, r.expiresAt];
        await insertOnce(ctx.pool, CREATE_TOKEN, [...values, r.usedAt ?? null], 'setup token');
      }),
    consumeSetupToken: (hash, now) =>
      op(ctx, async () => {
        const row = await one<TokenRow>(ctx.pool, CONSUME_TOKEN, [now, hash]);
        return row && tokenRecord(row);
      }),
  };
}
