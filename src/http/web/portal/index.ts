/**
 * The self-service portal's routes (`/portal/...`): sign-in, password setup and sign-out, the
 * user's devices, one device with its profiles and actions, and the enrollment link. Everything
 * past sign-in is behind `requirePortal` (session, CSRF on POST).
 */
import type { Hono } from 'hono';
import { currentSession, requirePortal, type WebEnv } from '../security.js';
import type { WebDeps } from '../types.js';
import { deviceAction, downloadProfile, installProfile, removeProfile } from './device-posts.js';
import { deviceList, devicePage } from './devices.js';
import { enrollPage } from './enroll.js';
import { setup, setupForm, signIn, signInForm, signOut } from './sign-in.js';
import { notYours, ownedEnrollment } from './view.js';

/** Registers the portal's routes on the web app. */
export function portalRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const auth = requirePortal(deps);
  app.get('/portal/sign-in', async (c) =>
    (await currentSession(c, deps, 'portal')) === undefined
      ? signInForm(c)
      : c.redirect('/portal/', 303),
  );
  app.post('/portal/sign-in', (c) => signIn(c, deps));
  app.get('/portal/setup', (c) => setupForm(c, c.req.query('token') ?? ''));
  app.post('/portal/setup', (c) => setup(c, deps));
  app.post('/portal/sign-out', auth, (c) => signOut(c, deps));
  app.get('/portal/', auth, (c) => deviceList(c, deps, c.get('portal')));
  app.get('/portal/enroll', auth, (c) => enrollPage(c, deps));
  app.get('/portal/devices/:id', auth, async (c) => {
    const viewer = c.get('portal');
    const enrollment = await ownedEnrollment(deps, viewer, c.req.param('id'));
    if (enrollment === undefined) return notYours(c, viewer);
    return devicePage(c, { deps, viewer, enrollment });
  });
  const device = '/portal/devices/:id';
  app.post(`${device}/profiles/:profileId/install`, auth, (c) => installProfile(c, deps));
  app.post(`${device}/profiles/:identifier/remove`, auth, (c) => removeProfile(c, deps));
  app.get(`${device}/profiles/:profileId/download`, auth, (c) => downloadProfile(c, deps));
  app.post(`${device}/actions/:action`, auth, (c) => deviceAction(c, deps));
}
