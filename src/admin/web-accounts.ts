/**
 * How people sign in to the portal and the console: users by username or e-mail and password,
 * administrators by name and password or by API key, and the one-time setup tokens that let a
 * user choose a password (sent in the invitation mail). Passwords are scrypt hashes
 * ({@link hashPassword}); an unknown login still costs one hash check, so the time of the
 * answer does not tell whether the account exists. An identity provider can be added later as
 * another sign-in method beside these without touching sessions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { OrchardError } from '../errors.js';
import { ManagementError } from '../errors/management.js';
import type {
  ApiKeyStore,
  CredentialStore,
  PrincipalStore,
  UserRecord,
  UserStore,
  WebSessionStore,
} from '../storage/ports.js';
import { authenticate } from './api-keys.js';
import { hashPassword, passwordProblem, verifyDummyPassword, verifyPassword } from './passwords.js';
import type { Caller } from './principals.js';

/** Seven days: how long an invitation's "set your password" link works by default. */
export const SETUP_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/** The web areas' `WebAccounts`, declared here because the admin domain imports no HTTP layer. */
export interface WebAccounts {
  /** The user whose username or e-mail and password match, or `undefined` (same time either way). */
  signInUser(login: string, password: string): Promise<UserRecord | undefined>;
  /** The enabled administrator whose name and password match, or `undefined`. */
  signInAdmin(name: string, password: string): Promise<Caller | undefined>;
  /** The enabled administrator an active API key belongs to, with the key's scope, or `undefined`. */
  signInAdminWithKey(key: string): Promise<Caller | undefined>;
  /** Mints a one-time password-setup token for a user; ManagementError `ERR_USER_NOT_FOUND` when unknown. */
  setupToken(userId: string, ttlSeconds?: number): Promise<string>;
  /**
   * Sets a user's password with a setup token (ending the user's portal sessions); `undefined`
   * when the token is unknown, used or expired. TypeError when the password is too weak.
   */
  setUserPassword(token: string, password: string): Promise<UserRecord | undefined>;
  /**
   * Sets an administrator's password (ending its console sessions). ManagementError
   * `ERR_ADMIN_NOT_FOUND` or `ERR_ADMIN_DISABLED`; TypeError when the password is too weak.
   */
  setAdminPassword(principalId: string, password: string): Promise<void>;
}

/** Options of {@link createWebAccounts}. */
export interface WebAccountsOptions {
  store: UserStore & PrincipalStore & CredentialStore & ApiKeyStore & WebSessionStore;
  /** Default `() => new Date()`. */
  clock?: () => Date;
  /** Default node:crypto's `randomBytes`. */
  random?: (n: number) => Buffer;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Throws TypeError with the plain-words problem of a new password. */
function checkStrength(password: string): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new TypeError(problem);
}

/** The one user a login names: by username, else (with an `@`) by e-mail when exactly one has it. */
async function findLogin(store: UserStore, login: string): Promise<UserRecord | undefined> {
  const trimmed = login.trim();
  if (trimmed === '') return undefined;
  const byName = await store.findUserByUsername(trimmed);
  if (byName !== undefined || !trimmed.includes('@')) return byName;
  const email = trimmed.toLowerCase();
  const found: UserRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listUsers({ limit: 500, ...(cursor === undefined ? {} : { cursor }) });
    found.push(...page.items.filter((u) => u.email.toLowerCase() === email));
    cursor = page.nextCursor;
  } while (cursor !== undefined && found.length < 2);
  return found.length === 1 ? found[0] : undefined;
}

/** Creates the {@link WebAccounts} service over the admin store. */
export function createWebAccounts(options: WebAccountsOptions): WebAccounts {
  const { store } = options;
  const clock = options.clock ?? (() => new Date());
  const random = options.random ?? randomBytes;
  const check = async (
    subject: 'user' | 'admin',
    id: string | undefined,
    password: string,
  ): Promise<boolean> => {
    const record = id === undefined ? undefined : await store.findPassword(subject, id);
    return record === undefined
      ? verifyDummyPassword(password)
      : verifyPassword(password, record.hash);
  };
  return {
    async signInUser(login, password) {
      const user = await findLogin(store, login);
      return (await check('user', user?.id, password)) ? user : undefined;
    },
    async signInAdmin(name, password) {
      const wanted = name.trim().toLowerCase();
      const matches = (await store.listPrincipals()).filter(
        (p) => p.disabledAt === undefined && p.name.toLowerCase() === wanted,
      );
      const principal = matches.length === 1 ? matches[0] : undefined;
      const ok = await check('admin', principal?.id, password);
      return ok && principal ? { principal, keyScope: 'write' } : undefined;
    },
    async signInAdminWithKey(key) {
      if (!/^\S{1,512}$/.test(key)) return undefined;
      try {
        const record = await authenticate(store, `Bearer ${key}`, 'read');
        const principal = await store.findPrincipal(record.principalId);
        if (principal === undefined || principal.disabledAt !== undefined) return undefined;
        return { principal, keyScope: record.scope };
      } catch (error) {
        if (error instanceof OrchardError && error.status === 403) return undefined;
        throw error;
      }
    },
    async setupToken(userId, ttlSeconds = SETUP_TOKEN_TTL_SECONDS) {
      if ((await store.findUser(userId)) === undefined)
        throw new ManagementError('ERR_USER_NOT_FOUND', `no user ${userId}`);
      const token = random(32).toString('base64url');
      const now = clock();
      await store.createSetupToken({
        hash: sha256(token),
        subject: 'user',
        subjectId: userId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
      });
      return token;
    },
    async setUserPassword(token, password) {
      checkStrength(password);
      const used = await store.consumeSetupToken(sha256(token), clock());
      if (used === undefined || used.subject !== 'user') return undefined;
      const user = await store.findUser(used.subjectId);
      if (user === undefined) return undefined;
      const hash = await hashPassword(password, random);
      await store.setPassword({ subject: 'user', subjectId: user.id, hash, updatedAt: clock() });
      await store.deleteWebSessionsOf('portal', user.id);
      return user;
    },
    async setAdminPassword(principalId, password) {
      const principal = await store.findPrincipal(principalId);
      if (principal === undefined)
        throw new ManagementError('ERR_ADMIN_NOT_FOUND', `no administrator ${principalId}`);
      if (principal.disabledAt !== undefined)
        throw new ManagementError('ERR_ADMIN_DISABLED', `administrator ${principalId} is disabled`);
      checkStrength(password);
      const hash = await hashPassword(password, random);
      await store.setPassword({
        subject: 'admin',
        subjectId: principalId,
        hash,
        updatedAt: clock(),
      });
      await store.deleteWebSessionsOf('console', principalId);
    },
  };
}
