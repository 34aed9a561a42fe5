/**
 * The admin API over real parts for the profile routes: memory admin, MDM and CA stores, the
 * MDM core (push a no-op), the group service and the profile library. The organization is
 * Global > Sales and Global > Engineering, with an administrator (and key) of each kind.
 */
import { createApiKey } from '../../../src/admin/api-keys.js';
import { createAdminApi, type AdminApi, type AdminApiDeps } from '../../../src/http/admin/index.js';
import { createGroupService } from '../../../src/management/groups-service.js';
import { createProfileLibrary } from '../../../src/management/profile-library.js';
import { createDeliveryService } from '../../../src/management/delivery/service.js';
import { silentLogger } from '../../../src/logger.js';
import { createMdmCore } from '../../../src/service/core.js';
import {
  createMemoryAdminStorage,
  createMemoryCaStorage,
  createMemoryStorage,
} from '../../../src/storage/memory/index.js';
import type { AdminRole, AdminStorage, MdmStorage } from '../../../src/storage/ports.js';
import { device, signing } from '../../management/profile-fixtures.js';
import { callApi, trappedDeps } from './support.js';

/** The app and its parts. */
export interface ProfilesApi {
  app: AdminApi;
  deps: AdminApiDeps;
  admin: AdminStorage;
  storage: MdmStorage;
  groups: { sales: string; eng: string };
  keys: { root: string; sales: string; salesReader: string; eng: string; rootRead: string };
  /** Calls the API with `key`; a JSON body when given. */
  call(
    key: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Enrolls `id` with the fixture RSA device certificate, issued (as far as the CA store knows) by Orchard. */
  enroll(id: string, options?: { issued?: boolean }): Promise<void>;
}

const AT = new Date('2026-12-07T01:00:00Z');

/** Creates the fixture; each call has its own stores. */
export async function profilesApi(): Promise<ProfilesApi> {
  const clock = () => AT;
  const admin = createMemoryAdminStorage();
  const storage = createMemoryStorage({ clock });
  const ca = createMemoryCaStorage();
  const core = createMdmCore({ storage, clock, push: { push: () => Promise.resolve([]) } });
  const groups = createGroupService({ store: admin, principals: admin, clock });
  const sales = (await groups.createGroup({ name: 'Sales', parentId: 'global' })).group.id;
  const eng = (await groups.createGroup({ name: 'Engineering', parentId: 'global' })).group.id;
  let n = 0;
  const profiles = createProfileLibrary({
    ...{ store: admin, groups, signing: { ...signing, chain: [] }, clock },
    randomUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
  const delivery = createDeliveryService({
    ...{ store: admin, enrollments: storage, commands: core, groups },
    ...{ signing: { ...signing, chain: [] }, clock, logger: silentLogger },
  });
  const deps = trappedDeps(admin, {
    ...{ storage, core, groups, profiles, certificates: ca.certificates, delivery },
  });
  const app = createAdminApi(deps);
  const keyOf = async (role: AdminRole, groupId: string, scope: 'read' | 'write' = 'write') => {
    const p = await admin.createPrincipal({ name: `${role}@${groupId}`, role, groupId });
    return (await createApiKey(admin, `${p.name} key`, scope, p.id)).key;
  };
  const keys = {
    root: await keyOf('full', 'global'),
    rootRead: await keyOf('full', 'global', 'read'),
    sales: await keyOf('full', sales),
    salesReader: await keyOf('read-only', sales),
    eng: await keyOf('full', eng),
  };
  return {
    ...{ app, deps, admin, storage, groups: { sales, eng }, keys },
    call: (key, method, path, body) => callApi(app, key, method, path, body),
    async enroll(id, options = {}) {
      await storage.storeAuthenticate({ id, type: 'device', deviceId: id, facts: {} });
      await storage.storeTokenUpdate({
        ...{ id, type: 'device', deviceId: id, facts: {} },
        push: { token: 'aa', pushMagic: 'm', topic: 't' },
      });
      const known = device.certificate.serialNumber.toLowerCase().replace(/^0+/, '');
      // A certificate another CA issued: bound, but unknown to Orchard's CA store.
      const serial = options.issued === false ? 'f00d' : known;
      await storage.bindCertificate(id, `hash-${id}`, { serial });
      if (options.issued === false || (await ca.certificates.findIssued(serial))) return;
      await ca.certificates.recordIssued({
        ...{ serial, subject: 'CN=Orchard Fixture Device', der: device.certificate.raw },
        ...{ notBefore: AT, notAfter: new Date(AT.getTime() + 86_400_000), issuedAt: AT },
      });
    },
  };
}
