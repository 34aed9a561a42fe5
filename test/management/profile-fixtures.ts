/**
 * Fixtures of the profile library tests: the committed fixture PKI (an RSA CA as the library's
 * signing identity, an EC device as an uploader, an RSA device to encrypt to), profiles built
 * from the fixture specs, and a library over the real memory store and group service.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createGroupService, type GroupService } from '../../src/management/groups-service.js';
import {
  createProfileLibrary,
  type ProfileLibrary,
  type ProfileLibraryDeps,
} from '../../src/management/profile-library.js';
import { buildProfile } from '../../src/profile/build.js';
import { parseProfileSpec } from '../../src/profile/spec.js';
import { encodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { createMemoryAdminStorage } from '../../src/storage/memory/index.js';
import type { AdminStorage } from '../../src/storage/ports.js';

const root = new URL('../../fixtures/', import.meta.url);

/** A certificate with its private key. */
export interface Identity {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

function identity(name: string): Identity {
  return {
    certificate: new X509Certificate(readFileSync(new URL(`pki/${name}.pem`, root))),
    privateKey: createPrivateKey(readFileSync(new URL(`pki/${name}.key`, root))),
  };
}

/** The library's signing identity (the fixture CA itself). */
export const signing: Identity = identity('ca-rsa');
/** An uploader's signer issued by the fixture CA (so the library knows its chain). */
export const uploader: Identity = identity('device-ec');
/** A device identity (RSA) to encrypt to. */
export const device: Identity = identity('device-rsa');

/** A profile built from a fixture spec (`wifi`, `restrictions`, ...), validated. */
export function fixtureProfile(name: string, overrides: Partial<PlistDict> = {}): PlistDict {
  const text = readFileSync(new URL(`profiles/${name}.yaml`, root), 'utf8');
  return { ...buildProfile(parseProfileSpec(text)), ...overrides } as PlistDict;
}

/** A broken profile (unknown key, wrong type) built without validation. */
export function brokenProfile(): PlistDict {
  const text = readFileSync(new URL('profiles/wifi-broken.yaml', root), 'utf8');
  return buildProfile(parseProfileSpec(text), { validate: false });
}

/** A wifi profile with its own identifier and UUID, as XML bytes. */
export function wifiXml(identifier = 'com.example.orchard.wifi', uuid?: string): Buffer {
  return encodePlist(
    fixtureProfile('wifi', {
      PayloadIdentifier: identifier,
      ...(uuid === undefined ? {} : { PayloadUUID: uuid }),
    }),
  );
}

/** A library over a fresh memory store, with a fixed clock and counting UUIDs. */
export interface LibraryFixture {
  store: AdminStorage;
  groups: GroupService;
  library: ProfileLibrary;
  /** Makes the `profile-options` page override at `groupId` with `interactiveEnabled`. */
  setInteractive(groupId: string, enabled: boolean): Promise<void>;
}

/** Creates a {@link LibraryFixture}; `wrap` may put a fault-injecting store in front. */
export function libraryFixture(
  wrap: (store: AdminStorage) => ProfileLibraryDeps['store'] = (s) => s,
): LibraryFixture {
  const store = createMemoryAdminStorage();
  const clock = () => new Date('2026-12-07T01:00:00Z');
  const groups = createGroupService({ store, principals: store, clock });
  let n = 0;
  const randomUuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const library = createProfileLibrary({
    store: wrap(store),
    groups,
    signing: { ...signing, chain: [] },
    clock,
    randomUuid,
  });
  return {
    store,
    groups,
    library,
    async setInteractive(groupId, enabled) {
      await groups.writeSettings(groupId, 'profile-options', {
        currentSetting: 'override',
        values: { interactiveEnabled: enabled },
      });
    },
  };
}

/** Runs `promise` and returns the `code` of what it rejects with; fails when it resolves. */
export async function rejectCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  throw new Error('expected a rejection');
}
