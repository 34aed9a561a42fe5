/**
 * The portal over real parts: memory admin and MDM stores, the MDM core (push a no-op), the
 * management services the daemon builds, browser sessions and accounts, in the whole web app
 * (`createWebApp`). The world holds a policy with an Interactive and an Optional Wi-Fi profile
 * (Interactive enabled at Global), two users with passwords, and helpers to enroll devices,
 * sign in and post forms the way a browser does (Origin, cookie, the page's `_csrf`).
 */
import { createWebAccounts } from '../../../src/admin/web-accounts.js';
import { createWebSessions } from '../../../src/admin/web-sessions.js';
import { createWebApp } from '../../../src/http/web/index.js';
import type { WebDeps } from '../../../src/http/web/types.js';
import { createFailedLoginLimiter } from '../../../src/http/rate-limit.js';
import { silentLogger } from '../../../src/logger.js';
import { encodePlist } from '../../../src/protocol/plist.js';
import { createManagementServices } from '../../../src/server/management.js';
import { createMdmCore } from '../../../src/service/core.js';
import {
  createMemoryAdminStorage,
  createMemoryStorage,
} from '../../../src/storage/memory/index.js';
import type {
  AdminStorage,
  LibraryProfileRecord,
  MdmStorage,
  UserRecord,
} from '../../../src/storage/ports.js';
import { fixtureProfile, signing } from '../../management/profile-fixtures.js';
import { trap } from '../admin/support.js';

/** The password every fixture user has. */
export const PASSWORD = 'portal password 123';

/** Facts of an iPhone. */
export const IPHONE = {
  DeviceName: 'Ann’s iPhone',
  SerialNumber: 'F2LXK0AAHG7J',
  OSVersion: '17.4',
  BuildVersion: '21E219',
  ProductName: 'iPhone16,1',
  Model: 'iPhone16,1',
};

/** A browser: its session cookie and the CSRF token its pages carry. */
export interface Browser {
  cookie: string;
  csrf: string;
}

/** The portal's test world. */
export interface PortalWorld {
  app: ReturnType<typeof createWebApp>;
  deps: WebDeps;
  admin: AdminStorage;
  storage: MdmStorage;
  ann: UserRecord;
  bob: UserRecord;
  interactive: LibraryProfileRecord;
  optional: LibraryProfileRecord;
  /** Enrolls a device owned by `user`. */
  enroll(id: string, user: UserRecord, facts?: Record<string, unknown>): Promise<void>;
  /** Overrides Global's self-service page with `values`. */
  selfService(values: Record<string, boolean>): Promise<void>;
  request(path: string, init?: RequestInit, client?: string): Promise<Response>;
  /** Posts the sign-in form; the raw answer. */
  signInRaw(login: string, password: string, client?: string): Promise<Response>;
  /** Signs in and reads the CSRF token from the device list. */
  signIn(login: string): Promise<Browser>;
  get(path: string, who: Browser): Promise<Response>;
  /** Posts a form with the browser's cookie and, unless `form` has one, its `_csrf`. */
  post(path: string, who: Browser, form?: Record<string, string>): Promise<Response>;
}

const AT = new Date('2026-12-07T04:00:00Z');
const ORIGIN = 'https://mdm.example.com';

async function upload(
  services: ReturnType<typeof createManagementServices>,
  name: string,
  assignmentType: 'optional' | 'interactive',
): Promise<LibraryProfileRecord> {
  const content = encodePlist(
    fixtureProfile('wifi', {
      PayloadIdentifier: `com.example.${name}`,
      PayloadDisplayName: name,
    }),
  );
  const { profile } = await services.profiles.upload({
    ...{ groupId: 'global', content: new Uint8Array(content) },
    ...{ assignmentType, actor: 'owner' },
  });
  return profile;
}

/** Creates a world; each call has its own stores and limiter. */
export async function portalWorld(): Promise<PortalWorld> {
  const clock = () => AT;
  const admin = createMemoryAdminStorage({ clock });
  const storage = createMemoryStorage({ clock });
  const core = createMdmCore({ storage, clock, push: { push: () => Promise.resolve([]) } });
  const services = createManagementServices({
    ...{ admin, clock, logger: silentLogger, core, enrollments: storage },
    signing: { ...signing, chain: [] },
    publicUrl: () => ORIGIN,
  });
  const deps: WebDeps = {
    ...services,
    ...{ admin, storage, core, pushEnabled: true, clock, logger: silentLogger },
    enrollment: trap('enrollment'),
    identity: trap('identity'),
    ca: { certificate: signing.certificate } as never,
    certificates: trap('certificates'),
    sessions: createWebSessions({ store: admin, clock }),
    accounts: createWebAccounts({ store: admin, clock }),
    publicUrl: () => ORIGIN,
    secureCookies: true,
  };
  await services.groups.writeSettings('global', 'profile-options', {
    values: { interactiveEnabled: true },
  });
  const interactive = await upload(services, 'vpn-on-demand', 'interactive');
  const optional = await upload(services, 'guest-wifi', 'optional');
  const policy = await services.policies.create({ name: 'Staff', groupId: 'global' });
  await services.policies.assign(policy.id, interactive.id, { assignmentType: 'interactive' });
  await services.policies.assign(policy.id, optional.id, { assignmentType: 'optional' });
  const user = async (username: string): Promise<UserRecord> => {
    const u = await admin.createUser({
      ...{ username, email: `${username}@example.com`, groupId: 'global', policy: policy.id },
    });
    if (u === undefined) throw new Error('user exists');
    await deps.accounts.setUserPassword(await deps.accounts.setupToken(u.id), PASSWORD);
    return u;
  };
  const ann = await user('ann');
  const bob = await user('bob');
  const failedLogins = createFailedLoginLimiter({
    perMinute: 5,
    globalPerMinute: 1000,
    now: () => 0,
  });
  const app = createWebApp(deps, { failedLogins });
  const request = async (path: string, init: RequestInit = {}, client = '192.0.2.1') =>
    app.request(`${ORIGIN}${path}`, init, { client, logger: silentLogger });
  const world: PortalWorld = {
    ...{ app, deps, admin, storage, ann, bob, interactive, optional, request },
    async enroll(id, owner, facts = IPHONE) {
      await storage.storeAuthenticate({ id, type: 'device', deviceId: id, facts });
      await storage.storeTokenUpdate({
        ...{ id, type: 'device', deviceId: id, facts: {} },
        push: { token: 'aa', pushMagic: 'm', topic: 't' },
      });
      await admin.assignEnrollmentOwner({
        ...{ enrollmentId: id, userId: owner.id, groupId: owner.groupId },
        assignedAt: AT,
      });
    },
    async selfService(values) {
      await services.groups.writeSettings('global', 'self-service', {
        currentSetting: 'override',
        values,
      });
    },
    signInRaw: (login, password, client) =>
      request(
        '/portal/sign-in',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
          body: new URLSearchParams({ login, password }),
        },
        client,
      ),
    async signIn(login) {
      const res = await world.signInRaw(login, PASSWORD);
      const cookie = /^(orchard_portal=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
      if (res.status !== 303 || cookie === undefined)
        throw new Error(`sign-in ${String(res.status)}`);
      const page = await (await request('/portal/', { headers: { cookie } })).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
      if (csrf === undefined) throw new Error('no _csrf on the device list');
      return { cookie, csrf };
    },
    get: (path, who) => request(path, { headers: { cookie: who.cookie } }),
    post(path, who, form = {}) {
      const body = new URLSearchParams({ _csrf: who.csrf, ...form });
      return request(path, {
        method: 'POST',
        headers: {
          cookie: who.cookie,
          origin: ORIGIN,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
    },
  };
  return world;
}
