/**
 * The console over real parts: memory admin and MDM stores, the MDM core (push a no-op), the
 * management services the daemon builds (groups, profiles, users, links, policies, delivery),
 * browser sessions and accounts, in the web app (`createWebApp`). The organization
 * is Global > Europe > France and Global > US, with an administrator of each kind.
 */
import type { Hono } from 'hono';
import { createWebAccounts } from '../../../src/admin/web-accounts.js';
import { createWebSessions } from '../../../src/admin/web-sessions.js';
import { silentLogger } from '../../../src/logger.js';
import { createManagementServices } from '../../../src/server/management.js';
import { createMdmCore } from '../../../src/service/core.js';
import {
  createMemoryAdminStorage,
  createMemoryStorage,
} from '../../../src/storage/memory/index.js';
import type {
  AdminRole,
  AdminStorage,
  MdmStorage,
  UserRecord,
} from '../../../src/storage/ports.js';
import { createWebApp, type WebAppOptions } from '../../../src/http/web/app.js';
import type { WebEnv } from '../../../src/http/web/security.js';
import type { WebDeps } from '../../../src/http/web/types.js';
import { signing } from '../../management/profile-fixtures.js';
import { trap } from '../admin/support.js';

/** The console's test world. */
export interface ConsoleWorld {
  app: Hono<WebEnv>;
  deps: WebDeps;
  admin: AdminStorage;
  storage: MdmStorage;
  groups: { europe: string; france: string; us: string };
  /** Administrators by kind: root (full, Global), reader (read-only, Global), europe, us (full). */
  admins: Record<'root' | 'reader' | 'europe' | 'us', string>;
  /** A signed-in session of an administrator: its cookie header and CSRF token. */
  session(principalId: string): Promise<{ cookie: string; csrf: string }>;
  /** Enrolls a device with facts, owned by `user` when given. */
  enroll(id: string, facts: Record<string, unknown>, user?: UserRecord): Promise<void>;
  /** GET (or POST a form) with a session's cookie; a form gets the session's CSRF unless given. */
  get(path: string, who: { cookie: string }): Promise<Response>;
  post(
    path: string,
    who: { cookie: string; csrf: string },
    form: Record<string, string | string[]>,
  ): Promise<Response>;
  /** POSTs `multipart/form-data` with one file field (and the session's CSRF). */
  upload(
    path: string,
    who: { cookie: string; csrf: string },
    file: { field: string; name: string; type: string; bytes: Uint8Array | string },
    fields?: Record<string, string>,
  ): Promise<Response>;
}

const AT = new Date('2026-12-07T04:00:00Z');

/** Creates a world; each call has its own stores; `options` go to the web app. */
export async function consoleWorld(options: WebAppOptions = {}): Promise<ConsoleWorld> {
  const clock = () => AT;
  const admin = createMemoryAdminStorage();
  const storage = createMemoryStorage({ clock });
  const core = createMdmCore({ storage, clock, push: { push: () => Promise.resolve([]) } });
  const services = createManagementServices({
    ...{ admin, clock, logger: silentLogger, core, enrollments: storage },
    signing: { ...signing, chain: [] },
    publicUrl: () => 'https://mdm.example.com',
  });
  const deps: WebDeps = {
    ...services,
    admin,
    storage,
    core,
    enrollment: trap('enrollment'),
    identity: trap('identity'),
    ca: { certificate: signing.certificate } as never,
    certificates: trap('certificates'),
    pushEnabled: true,
    sessions: createWebSessions({ store: admin, clock }),
    accounts: createWebAccounts({ store: admin, clock }),
    clock,
    logger: silentLogger,
    publicUrl: () => 'https://mdm.example.com',
    secureCookies: false,
  };
  const { groups } = services;
  const europe = (await groups.createGroup({ name: 'Europe', parentId: 'global' })).group.id;
  const france = (await groups.createGroup({ name: 'France', parentId: europe })).group.id;
  const us = (await groups.createGroup({ name: 'US', parentId: 'global' })).group.id;
  const adminOf = async (name: string, role: AdminRole, groupId: string) =>
    (await admin.createPrincipal({ name, role, groupId })).id;
  const admins = {
    root: await adminOf('root-admin', 'full', 'global'),
    reader: await adminOf('reader', 'read-only', 'global'),
    europe: await adminOf('europe-admin', 'full', europe),
    us: await adminOf('us-admin', 'full', us),
  };
  const app = createWebApp(deps, options);
  const request = async (path: string, init: RequestInit): Promise<Response> =>
    app.request(`http://localhost${path}`, init);
  return {
    ...{ app, deps, admin, storage, admins, groups: { europe, france, us } },
    async session(principalId) {
      const { token, session } = await deps.sessions.create('console', principalId);
      return { cookie: `orchard_console=${token}`, csrf: session.csrf };
    },
    async enroll(id, facts, user) {
      await storage.storeAuthenticate({ id, type: 'device', deviceId: id, facts });
      await storage.storeTokenUpdate({
        ...{ id, type: 'device', deviceId: id, facts: {} },
        push: { token: 'aa', pushMagic: 'm', topic: 't' },
      });
      if (user !== undefined)
        await admin.assignEnrollmentOwner({
          ...{ enrollmentId: id, userId: user.id, groupId: user.groupId },
          assignedAt: AT,
        });
    },
    get: (path, who) => request(path, { headers: { cookie: who.cookie } }),
    upload(path, who, file, fields = {}) {
      const body = new FormData();
      body.append('_csrf', who.csrf);
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      const bytes = typeof file.bytes === 'string' ? Buffer.from(file.bytes) : file.bytes;
      body.append(file.field, new Blob([bytes], { type: file.type }), file.name);
      return request(path, { method: 'POST', headers: { cookie: who.cookie }, body });
    },
    post(path, who, form) {
      const body = new URLSearchParams();
      if (!Object.hasOwn(form, '_csrf')) body.append('_csrf', who.csrf);
      for (const [k, v] of Object.entries(form))
        for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
      return request(path, {
        method: 'POST',
        headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    },
  };
}
