/**
 * Who an enrollment belongs to (M9, M10): personal links give the link's user, generic links a
 * new `prefix-N` user per enrollment, single links nobody; a re-bind through the same link
 * changes nothing, and a failing store is logged, never thrown at the check-in.
 */
import { describe, expect, test } from '@jest/globals';
import { linkTarget } from '../../src/admin/enrollment-links.js';
import { createMemoryCertificateStore } from '../../src/index.js';
import {
  allObservers,
  assignOwnerOnBind,
  enrollmentOwnerObserver,
  linkIdOf,
  type EnrollmentOwnerDeps,
} from '../../src/management/enrollment-owners.js';
import { createMemoryAdminStorage } from '../../src/storage/memory/admin.js';
import {
  ROOT_GROUP_ID,
  type AdminStorage,
  type EnrollmentLinkKind,
} from '../../src/storage/ports.js';
import { silentLogger, type Logger } from '../../src/logger.js';

const NOW = new Date('2026-12-07T02:00:00Z');
const clock = () => NOW;

interface World {
  admin: AdminStorage;
  deps: EnrollmentOwnerDeps;
  errors: unknown[];
  /** Records a certificate of `serial` issued through a new link of `kind`; the link id. */
  link(kind: EnrollmentLinkKind, serials: string[], extra?: { userId?: string }): Promise<string>;
}

function recordingLogger(errors: unknown[]): Logger {
  return {
    ...silentLogger,
    error: (obj) => {
      errors.push(obj);
    },
  };
}

function world(prefix = 'device'): World {
  const admin = createMemoryAdminStorage({ clock });
  const certificates = createMemoryCertificateStore();
  const errors: unknown[] = [];
  const deps: EnrollmentOwnerDeps = {
    issuance: { findIssuedCertificate: (serial) => certificates.findIssued(serial) },
    links: admin,
    users: admin,
    audit: admin,
    genericPrefix: () => Promise.resolve(prefix),
    clock,
    logger: recordingLogger(errors),
  };
  let hash = 0;
  return {
    admin,
    deps,
    errors,
    async link(kind, serials, extra = {}) {
      hash += 1;
      const record = await admin.createEnrollmentToken({
        hash: hash.toString(16).padStart(64, '0'),
        singleUse: kind === 'single',
        kind,
        ...(kind === 'single' ? {} : { groupId: ROOT_GROUP_ID }),
        ...(kind === 'generic' ? { policy: 'kiosk' } : {}),
        ...extra,
      });
      for (const serial of serials)
        await certificates.recordIssued({
          serial,
          subject: 'CN=device',
          enrollmentId: linkTarget(record.id),
          notBefore: NOW,
          notAfter: NOW,
          issuedAt: NOW,
          der: Buffer.from(serial, 'hex'),
        });
      return record.id;
    },
  };
}

const bound = (enrollmentId: string, serial: string, reason = 'enrollment') => ({
  enrollmentId,
  serial,
  reason,
});

describe('assignOwnerOnBind', () => {
  test('ok/a personal link gives its user', async () => {
    const w = world();
    const user = await w.admin.createUser({
      username: 'alice',
      email: 'alice@example.com',
      groupId: ROOT_GROUP_ID,
    });
    const linkId = await w.link('personal', ['a1'], { userId: user?.id ?? '' });
    const owner = await assignOwnerOnBind(w.deps, bound('UDID-1', 'a1'));
    expect(owner).toEqual({
      enrollmentId: 'UDID-1',
      userId: user?.id,
      groupId: ROOT_GROUP_ID,
      linkId,
      assignedAt: NOW,
    });
    expect(await w.admin.listUserEnrollments(user?.id ?? '')).toHaveLength(1);
    const entries = await w.admin.listAudit({ limit: 10 });
    expect(entries.items.map((e) => [e.action, e.target, e.detail.username])).toContainEqual([
      'enrollment.owner',
      'UDID-1',
      'alice',
    ]);
  });

  test('ok/each enrollment of a generic link makes the next prefix-N user', async () => {
    const w = world('kiosk');
    await w.link('generic', ['b1', 'b2']);
    const first = await assignOwnerOnBind(w.deps, bound('UDID-1', 'b1'));
    const second = await assignOwnerOnBind(w.deps, bound('UDID-2', 'b2'));
    const names = await Promise.all(
      [first, second].map(async (o) => (await w.admin.findUser(o?.userId ?? ''))?.username),
    );
    expect(names).toEqual(['kiosk-1', 'kiosk-2']);
    const user = await w.admin.findUser(first?.userId ?? '');
    expect(user).toMatchObject({ generic: true, policy: 'kiosk', groupId: ROOT_GROUP_ID });
  });

  test('ok/a re-bind through the same link keeps the owner and makes no second user', async () => {
    const w = world();
    await w.link('generic', ['c1']);
    const first = await assignOwnerOnBind(w.deps, bound('UDID-1', 'c1'));
    expect(await assignOwnerOnBind(w.deps, bound('UDID-1', 'c1', 're-enrollment'))).toBe(undefined);
    expect(await assignOwnerOnBind(w.deps, bound('UDID-1', 'c1'))).toBe(undefined);
    expect(await w.admin.findEnrollmentOwner('UDID-1')).toEqual(first);
    expect((await w.admin.listUsers({ limit: 10 })).items).toHaveLength(1);
  });

  test('ok/re-enrolling through another generic link moves the enrollment to a new user', async () => {
    const w = world();
    await w.link('generic', ['d1']);
    await w.link('generic', ['d2']);
    const first = await assignOwnerOnBind(w.deps, bound('UDID-1', 'd1'));
    const second = await assignOwnerOnBind(w.deps, bound('UDID-1', 'd2', 're-enrollment'));
    expect(second?.userId).not.toBe(first?.userId);
    expect((await w.admin.findEnrollmentOwner('UDID-1'))?.userId).toBe(second?.userId);
  });

  test.each([
    ['ok/a single link gives nobody', 'e1', 'enrollment', true],
    ['ok/an identity renewal changes nothing', 'e2', 'renewal', true],
    ['ok/a certificate issued without a link gives nobody', 'ffff', 'enrollment', false],
  ])('%s', async (_name, serial, reason, viaLink) => {
    const w = world();
    if (viaLink) await w.link('single', [serial]);
    expect(await assignOwnerOnBind(w.deps, bound('UDID-1', serial, reason))).toBe(undefined);
    expect(await w.admin.findEnrollmentOwner('UDID-1')).toBe(undefined);
  });

  test('ok/a personal link whose user is gone gives nobody', async () => {
    const w = world();
    await w.link('personal', ['f1'], { userId: 'usr_gone' });
    expect(await assignOwnerOnBind(w.deps, bound('UDID-1', 'f1'))).toBe(undefined);
  });
});

describe('enrollmentOwnerObserver', () => {
  test('fail/a failing store is logged and never rejects', async () => {
    const w = world();
    await w.link('generic', ['a1']);
    const broken: EnrollmentOwnerDeps = {
      ...w.deps,
      users: { ...w.admin, findEnrollmentOwner: () => Promise.reject(new Error('disk')) },
    };
    await expect(enrollmentOwnerObserver(broken)(bound('UDID-1', 'a1'))).resolves.toBe(undefined);
    expect(w.errors).toHaveLength(1);
  });

  test('ok/allObservers runs every observer even after one throws', async () => {
    const errors: unknown[] = [];
    const seen: string[] = [];
    const observe = allObservers<string>(
      recordingLogger(errors),
      () => {
        throw new Error('first');
      },
      undefined,
      (c) => {
        seen.push(c);
      },
    );
    await observe('UDID-1');
    expect(seen).toEqual(['UDID-1']);
    expect(errors).toHaveLength(1);
  });
});

test('ok/linkIdOf reads what linkTarget writes, and nothing else', () => {
  expect(linkIdOf(linkTarget('tok_1'))).toBe('tok_1');
  expect(linkIdOf('renewal:UDID-1')).toBe(undefined);
  expect(linkIdOf(undefined)).toBe(undefined);
});
