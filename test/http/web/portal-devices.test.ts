/**
 * The portal's device pages over the whole web app: only one's own devices (M13), profiles
 * offered and installed with what removing takes (B5), installs queued as InstallProfile,
 * self-service gating of every action, downloads, escaping of device-sourced strings and the
 * security headers of every page.
 */
import { describe, expect, test } from '@jest/globals';
import { portalWorld, type PortalWorld } from './portal-fixture.js';

const requestTypes = async (w: PortalWorld, id: string): Promise<string[]> =>
  (await w.deps.core.listCommands(id, { limit: 50 })).items.map((c) => c.requestType);

/** Marks a profile installed on a device, as an acknowledged InstallProfile would. */
async function markInstalled(w: PortalWorld, id: string, identifier: string): Promise<void> {
  const record = await w.admin.findDeviceProfile(id, identifier);
  if (record === undefined) throw new Error('no record');
  const { commandUuid: _sent, ...rest } = record;
  await w.admin.putDeviceProfiles([{ ...rest, state: 'installed', installedAt: new Date() }]);
}

describe('portal devices', () => {
  test('ok/the device list shows the user’s devices only, with their facts', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    await w.enroll('dev-bob', w.bob, { DeviceName: 'Bob phone', ProductName: 'iPhone16,1' });
    const ann = await w.signIn('ann');
    const res = await w.get('/portal/', ann);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('data-testid="device-dev-ann"');
    expect(page).toContain('iOS 17.4');
    expect(page).not.toContain('dev-bob');
    expect(page).not.toContain('Bob phone');
  });

  test('fail/M13: another user’s device and an unknown id answer the very same 403 page', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    const bob = await w.signIn('bob');
    const theirs = await w.get('/portal/devices/dev-ann', bob);
    const unknown = await w.get('/portal/devices/dev-none', bob);
    expect(theirs.status).toBe(403);
    expect(unknown.status).toBe(403);
    expect(await theirs.text()).toBe(await unknown.text());
    const posts = [
      `/portal/devices/dev-ann/profiles/${w.interactive.id}/install`,
      '/portal/devices/dev-ann/actions/lock',
      `/portal/devices/dev-ann/profiles/${w.optional.id}/download`,
    ];
    for (const path of posts) {
      const res = path.endsWith('download') ? await w.get(path, bob) : await w.post(path, bob);
      expect(res.status).toBe(403);
    }
    expect(await requestTypes(w, 'dev-ann')).toEqual([]);
  });

  test('ok/Install on an Interactive profile queues InstallProfile; the page shows it pending and refreshes', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    const ann = await w.signIn('ann');
    const before = await (await w.get('/portal/devices/dev-ann', ann)).text();
    expect(before).toMatch(
      /data-testid="profile-com\.example\.vpn-on-demand" data-state="offered"/,
    );
    expect(before).not.toContain('http-equiv="refresh"');
    const res = await w.post(`/portal/devices/dev-ann/profiles/${w.interactive.id}/install`, ann);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/portal/devices/dev-ann?done=install');
    expect(await requestTypes(w, 'dev-ann')).toEqual(['InstallProfile']);
    const after = await (await w.get('/portal/devices/dev-ann?done=install', ann)).text();
    expect(after).toMatch(/data-testid="profile-com\.example\.vpn-on-demand" data-state="pending"/);
    expect(after).toContain('<meta http-equiv="refresh" content="3" />');
    expect(after).toContain('The profile is on its way to the device.');
    const audit = await w.admin.listAudit({ limit: 10 });
    expect(audit.items.map((a) => [a.actor, a.action])).toContainEqual([
      `user:${w.ann.id}`,
      'portal.profile.install',
    ]);
  });

  test('ok/an installed profile says what removing takes; Remove queues RemoveProfile', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    const ann = await w.signIn('ann');
    await w.post(`/portal/devices/dev-ann/profiles/${w.optional.id}/install`, ann);
    await markInstalled(w, 'dev-ann', 'com.example.guest-wifi');
    const page = await (await w.get('/portal/devices/dev-ann', ann)).text();
    expect(page).toMatch(/data-testid="profile-com\.example\.guest-wifi" data-state="installed"/);
    expect(page).toContain('You can remove it');
    const res = await w.post('/portal/devices/dev-ann/profiles/com.example.guest-wifi/remove', ann);
    expect(res.status).toBe(303);
    expect(await requestTypes(w, 'dev-ann')).toEqual(['InstallProfile', 'RemoveProfile']);
    const removing = await (await w.get('/portal/devices/dev-ann', ann)).text();
    expect(removing.match(/data-testid="profile-com\.example\.guest-wifi"/g)).toHaveLength(1);
    expect(removing).toMatch(/data-testid="profile-com\.example\.guest-wifi" data-state="pending"/);
    expect(removing).toContain('Being removed');
  });

  test('ok/a refused install shows as failed (one row, with the reason in words and Try again); the page stops refreshing', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    const ann = await w.signIn('ann');
    await w.post(`/portal/devices/dev-ann/profiles/${w.interactive.id}/install`, ann);
    const record = await w.admin.findDeviceProfile('dev-ann', 'com.example.vpn-on-demand');
    if (record === undefined) throw new Error('no record');
    const { commandUuid: _sent, ...rest } = record;
    await w.admin.putDeviceProfiles([
      { ...rest, state: 'failed', reason: 'The device <refused> it: MDM profile error 4001' },
    ]);
    const page = await (await w.get('/portal/devices/dev-ann', ann)).text();
    expect(page).toMatch(/data-testid="profile-com\.example\.vpn-on-demand" data-state="failed"/);
    expect(page).toContain('The device &lt;refused&gt; it: MDM profile error 4001');
    expect(page).not.toContain('http-equiv="refresh"');
    expect(page.match(/data-testid="profile-com\.example\.vpn-on-demand"/g)).toHaveLength(1);
    expect(page).toContain('Try again');
  });

  test('fail/with removal turned off for users, the page says only IT can remove it and Remove is refused', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    const ann = await w.signIn('ann');
    await w.post(`/portal/devices/dev-ann/profiles/${w.optional.id}/install`, ann);
    await markInstalled(w, 'dev-ann', 'com.example.guest-wifi');
    await w.selfService({ removeOptional: false });
    const page = await (await w.get('/portal/devices/dev-ann', ann)).text();
    expect(page).toContain('Only IT can remove it');
    expect(page).not.toContain('/remove"');
    const res = await w.post('/portal/devices/dev-ann/profiles/com.example.guest-wifi/remove', ann);
    expect(res.status).toBe(403);
    expect(await requestTypes(w, 'dev-ann')).toEqual(['InstallProfile']);
  });

  test('fail/self-service off: no Install button and the install is refused', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    await w.selfService({ installInteractive: false });
    const ann = await w.signIn('ann');
    const page = await (await w.get('/portal/devices/dev-ann', ann)).text();
    expect(page).not.toContain(`/profiles/${w.interactive.id}/install`);
    expect(page).toContain(`/profiles/${w.optional.id}/install`);
    const res = await w.post(`/portal/devices/dev-ann/profiles/${w.interactive.id}/install`, ann);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Installing profiles yourself is turned off.');
    expect(await requestTypes(w, 'dev-ann')).toEqual([]);
  });

  test.each([
    ['lock', 'DeviceLock', { lock: true }],
    ['query', 'DeviceInformation', { deviceQuery: true }],
  ])('ok/action %s queues %s where allowed', async (action, type, on) => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    await w.selfService(on);
    const ann = await w.signIn('ann');
    expect(await w.get('/portal/devices/dev-ann', ann).then((r) => r.text())).toContain(
      `/actions/${action}"`,
    );
    const res = await w.post(`/portal/devices/dev-ann/actions/${action}`, ann);
    expect(res.status).toBe(303);
    expect(await requestTypes(w, 'dev-ann')).toEqual([type]);
  });

  test.each([
    ['lock', { lock: false }],
    ['query', { deviceQuery: false }],
    ['clear-passcode', {}],
    ['erase', {}],
  ])('fail/action %s is neither shown nor accepted where not allowed', async (action, off) => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    await w.selfService(off);
    const ann = await w.signIn('ann');
    const page = await (await w.get('/portal/devices/dev-ann', ann)).text();
    expect(page).not.toContain(`/actions/${action}"`);
    const res = await w.post(`/portal/devices/dev-ann/actions/${action}`, ann, {
      confirm: 'Ann’s iPhone',
    });
    expect(res.status).toBe(403);
    expect(await requestTypes(w, 'dev-ann')).toEqual([]);
  });

  test('ok/erase needs the device name typed exactly', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    await w.selfService({ erase: true });
    const ann = await w.signIn('ann');
    const wrong = await w.post('/portal/devices/dev-ann/actions/erase', ann, { confirm: 'yes' });
    expect(wrong.status).toBe(409);
    expect(await requestTypes(w, 'dev-ann')).toEqual([]);
    const right = await w.post('/portal/devices/dev-ann/actions/erase', ann, {
      confirm: 'Ann’s iPhone',
    });
    expect(right.status).toBe(303);
    expect(await requestTypes(w, 'dev-ann')).toEqual(['EraseDevice']);
  });

  test('fail/clear passcode without an unlock token says so and queues nothing', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    await w.selfService({ clearPasscode: true });
    const ann = await w.signIn('ann');
    const res = await w.post('/portal/devices/dev-ann/actions/clear-passcode', ann);
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('clearing its passcode');
    expect(await requestTypes(w, 'dev-ann')).toEqual([]);
  });

  test('ok/download gives a signed .mobileconfig of an Optional profile only where allowed', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    const ann = await w.signIn('ann');
    const path = `/portal/devices/dev-ann/profiles/${w.optional.id}/download`;
    expect((await w.get(path, ann)).status).toBe(403);
    await w.selfService({ downloadProfiles: true });
    const page = await (await w.get('/portal/devices/dev-ann', ann)).text();
    expect(page).toContain(`href="${path}"`);
    const res = await w.get(path, ann);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-apple-aspen-config');
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="com.example.guest-wifi.mobileconfig"',
    );
    expect(new Uint8Array(await res.arrayBuffer())[0]).toBe(0x30); // CMS SignedData (DER)
    const interactive = `/portal/devices/dev-ann/profiles/${w.interactive.id}/download`;
    expect((await w.get(interactive, ann)).status).toBe(409);
  });

  test('ok/the enroll page shows the personal link and its QR code as a data: SVG image', async () => {
    const w = await portalWorld();
    const ann = await w.signIn('ann');
    const page = await (await w.get('/portal/enroll', ann)).text();
    expect(page).toMatch(/<img src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="QR code/);
    expect(page).toContain('https://mdm.example.com/');
  });
});

describe('portal escaping and headers', () => {
  test('ok/a device named <script>alert(1)</script> is shown escaped on every page', async () => {
    const w = await portalWorld();
    const name = '<script>alert(1)</script>';
    await w.enroll('dev-x', w.ann, {
      DeviceName: name,
      ProductName: '<b>iPhone</b>',
      OSVersion: '"17',
    });
    await w.selfService({ erase: true });
    const ann = await w.signIn('ann');
    for (const path of ['/portal/', '/portal/devices/dev-x']) {
      const page = await (await w.get(path, ann)).text();
      expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page).not.toContain('<script');
      expect(page).not.toContain('<b>');
    }
  });

  test('ok/every page carries the security headers', async () => {
    const w = await portalWorld();
    await w.enroll('dev-ann', w.ann);
    const ann = await w.signIn('ann');
    const answers = [
      await w.request('/portal/sign-in'),
      await w.request('/portal/'),
      await w.get('/portal/', ann),
      await w.get('/portal/devices/dev-ann', ann),
      await w.get('/portal/devices/dev-none', ann),
      await w.get('/portal/enroll', ann),
      await w.get('/portal/nothing-here', ann),
      await w.request('/static/orchard.css'),
      await w.request('/static/nothing.css'),
    ];
    for (const res of answers) {
      expect(res.headers.get('content-security-policy')).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect(answers[2]?.headers.get('cache-control')).toBe('no-store');
    expect(answers[3]?.headers.get('cache-control')).toBe('no-store');
  });

  test('ok/the stylesheet is CSS with a long cache; an unknown static file is 404', async () => {
    const w = await portalWorld();
    const css = await w.request('/static/orchard.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(await css.text()).toContain(':focus-visible');
    expect((await w.request('/static/../package.json')).status).toBe(404);
    expect((await w.request('/static/nothing.css')).status).toBe(404);
  });
});
