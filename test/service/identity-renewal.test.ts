/**
 * The identity renewal scheduler over the real core and memory storage, with an injected clock:
 * what falls due is renewed once, retried only after the retry delay, and never for an ended
 * binding; each renewal is an InstallProfile carrying the profile bytes, recorded and announced.
 */
import { describe, expect, test } from '@jest/globals';
import { IdentityError } from '../../src/errors.js';
import { createMdmCore } from '../../src/service/core.js';
import type { MdmEvent } from '../../src/service/events.js';
import { createIdentityRenewal } from '../../src/service/identity-renewal.js';
import { createMemoryStorage } from '../../src/storage/memory/index.js';
import { decodePlist } from '../../src/protocol/plist.js';

const DAY = 86_400_000;

function setup() {
  let now = new Date('2026-12-06T00:00:00Z').getTime();
  const clock = () => new Date(now);
  const storage = createMemoryStorage({ clock });
  const core = createMdmCore({ storage, clock, push: { push: () => Promise.resolve([]) } }, {});
  const events: MdmEvent[] = [];
  core.events.on('*', (e) => events.push(e));
  const profiles: [string, number][] = [];
  const renewal = createIdentityRenewal(
    {
      store: storage,
      core,
      clock,
      profile: (id, ttl) => {
        profiles.push([id, ttl]);
        return Promise.resolve(Buffer.from(`profile-for-${id}`));
      },
    },
    { leadDays: 30, retryAfterHours: 72 },
  );
  const enroll = async (id: string, expiresInDays: number) => {
    await storage.storeAuthenticate({ id, type: 'device', deviceId: id, facts: {} });
    await storage.storeTokenUpdate({
      id,
      type: 'device',
      deviceId: id,
      push: { token: 'aa', pushMagic: 'm', topic: 't' },
      facts: {},
    });
    await storage.bindCertificate(id, `hash-${id}`, {
      serial: id.toLowerCase(),
      notAfter: new Date(now + expiresInDays * DAY),
    });
  };
  return {
    storage,
    core,
    events,
    profiles,
    renewal,
    enroll,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('identity renewal', () => {
  test('ok/due enrollments get an InstallProfile with the profile, once', async () => {
    const s = setup();
    await s.enroll('DUE', 10);
    await s.enroll('LATER', 60);
    await s.enroll('ENDED', 5);
    await s.core.unenroll('ENDED');
    expect(await s.renewal.sweep()).toBe(1);
    expect(s.profiles).toEqual([['DUE', 30 * 86_400]]);
    const binding = await s.storage.findCertificateBinding('DUE');
    const uuid = binding?.renewal?.commandUuid ?? '';
    const command = await s.core.findCommand(uuid);
    expect(command?.requestType).toBe('InstallProfile');
    const body = decodePlist(command?.body ?? new Uint8Array()) as {
      Command: { Payload: Uint8Array };
    };
    expect(Buffer.from(body.Command.Payload).toString()).toBe('profile-for-DUE');
    expect(s.events).toContainEqual(
      expect.objectContaining({
        type: 'identity-renewal-queued',
        enrollmentId: 'DUE',
        commandUuid: uuid,
      }),
    );
    expect(await s.renewal.sweep()).toBe(0);
  });

  test('ok/an unfinished renewal is sent again only after the retry delay', async () => {
    const s = setup();
    await s.enroll('DUE', 10);
    expect(await s.renewal.sweep()).toBe(1);
    s.advance(71 * 3_600_000);
    expect(await s.renewal.sweep()).toBe(0);
    s.advance(2 * 3_600_000);
    expect(await s.renewal.sweep()).toBe(1);
    expect(s.profiles).toHaveLength(2);
  });

  test('ok/a new binding (the renewed certificate) clears the renewal in flight', async () => {
    const s = setup();
    await s.enroll('DUE', 10);
    await s.renewal.sweep();
    await s.storage.bindCertificate('DUE', 'hash-renewed', {
      serial: 'beef',
      notAfter: new Date(Date.parse('2027-12-06T00:00:00Z')),
    });
    const binding = await s.storage.findCertificateBinding('DUE');
    expect(binding?.renewal).toBeUndefined();
    expect(await s.renewal.sweep()).toBe(0);
  });

  test.each([
    ['fail/no binding', 'NONE', 'ERR_NO_BINDING'],
    ['fail/checked out', 'OUT', 'ERR_NO_BINDING'],
  ])('%s: renew() throws IdentityError %s', async (_n, id, code) => {
    const s = setup();
    await s.enroll('OUT', 10);
    await s.core.unenroll('OUT');
    const renewing = s.renewal.renew(id);
    await expect(renewing).rejects.toBeInstanceOf(IdentityError);
    await expect(renewing).rejects.toMatchObject({ code });
  });

  test('fail/options out of range are a TypeError', () => {
    const s = setup();
    const deps = {
      store: s.storage,
      core: s.core,
      profile: () => Promise.resolve(Buffer.alloc(0)),
    };
    expect(() => createIdentityRenewal(deps, { leadDays: 0 })).toThrow(TypeError);
    expect(() => createIdentityRenewal(deps, { retryAfterHours: -1 })).toThrow(TypeError);
  });
});
