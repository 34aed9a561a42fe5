/**
 * Browser sessions, passwords and password-setup tokens in memory (issue 19), with the SQLite
 * adapter's semantics: records are copied in and out, so a caller never holds the stored object.
 */
import type {
  CredentialStore,
  PasswordRecord,
  SetupTokenRecord,
  WebSessionRecord,
  WebSessionStore,
} from '../ports.js';
import { adminStep, type AdminState } from './admin-state.js';

const copySession = (r: WebSessionRecord): WebSessionRecord => ({
  idHash: r.idHash,
  kind: r.kind,
  subjectId: r.subjectId,
  createdAt: new Date(r.createdAt),
  expiresAt: new Date(r.expiresAt),
  lastSeenAt: new Date(r.lastSeenAt),
});

const copyToken = (r: SetupTokenRecord): SetupTokenRecord => {
  const out: SetupTokenRecord = {
    hash: r.hash,
    subject: r.subject,
    subjectId: r.subjectId,
    createdAt: new Date(r.createdAt),
    expiresAt: new Date(r.expiresAt),
  };
  if (r.usedAt !== undefined) out.usedAt = new Date(r.usedAt);
  return out;
};

/** The {@link WebSessionStore} over its own map, closed with the admin state. */
export function memoryWebSessions(s: AdminState): WebSessionStore {
  const sessions = new Map<string, WebSessionRecord>();
  const step = <T>(fn: () => T): Promise<T> => adminStep(s, fn);
  return {
    createWebSession: (record) =>
      step(() => {
        if (sessions.has(record.idHash)) throw new TypeError('duplicate web session');
        sessions.set(record.idHash, copySession(record));
      }),
    findWebSession: (idHash) =>
      step(() => {
        const r = sessions.get(idHash);
        return r && copySession(r);
      }),
    touchWebSession: (idHash, lastSeenAt, expiresAt) =>
      step(() => {
        const r = sessions.get(idHash);
        if (r === undefined) return false;
        sessions.set(idHash, {
          ...r,
          lastSeenAt: new Date(lastSeenAt),
          expiresAt: new Date(expiresAt),
        });
        return true;
      }),
    deleteWebSession: (idHash) => step(() => sessions.delete(idHash)),
    deleteWebSessionsOf: (kind, subjectId) =>
      step(() => {
        let n = 0;
        for (const [key, r] of sessions)
          if (r.kind === kind && r.subjectId === subjectId && sessions.delete(key)) n++;
        return n;
      }),
    purgeWebSessions: (now) =>
      step(() => {
        let n = 0;
        for (const [key, r] of sessions)
          if (r.expiresAt.getTime() < now.getTime() && sessions.delete(key)) n++;
        return n;
      }),
  };
}

/** The {@link CredentialStore} over its own maps, closed with the admin state. */
export function memoryCredentials(s: AdminState): CredentialStore {
  const passwords = new Map<string, PasswordRecord>();
  const tokens = new Map<string, SetupTokenRecord>();
  const key = (subject: string, id: string): string => `${subject}\u0000${id}`;
  const step = <T>(fn: () => T): Promise<T> => adminStep(s, fn);
  return {
    setPassword: (r) =>
      step(() => {
        passwords.set(key(r.subject, r.subjectId), { ...r, updatedAt: new Date(r.updatedAt) });
      }),
    findPassword: (subject, subjectId) =>
      step(() => {
        const r = passwords.get(key(subject, subjectId));
        return r && { ...r, updatedAt: new Date(r.updatedAt) };
      }),
    deletePassword: (subject, subjectId) => step(() => passwords.delete(key(subject, subjectId))),
    createSetupToken: (r) =>
      step(() => {
        if (tokens.has(r.hash)) throw new TypeError('duplicate setup token');
        tokens.set(r.hash, copyToken(r));
      }),
    consumeSetupToken: (hash, now) =>
      step(() => {
        const r = tokens.get(hash);
        if (r === undefined || r.usedAt !== undefined) return undefined;
        if (r.expiresAt.getTime() <= now.getTime()) return undefined;
        const used = { ...copyToken(r), usedAt: new Date(now) };
        tokens.set(hash, used);
        return copyToken(used);
      }),
  };
}
