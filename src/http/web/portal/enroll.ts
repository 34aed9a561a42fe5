/**
 * The portal's "Enroll a device" page: the user's personal enrollment link and its QR code
 * (an SVG in a `data:` image, which the CSP allows and which cannot run script).
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { OrchardError } from '../../../errors.js';
import { notice } from '../layout.js';
import type { WebEnv } from '../security.js';
import type { WebDeps } from '../types.js';
import { portalPage } from './view.js';

/** `GET /portal/enroll`. */
export async function enrollPage(c: Context<WebEnv>, deps: WebDeps): Promise<Response> {
  const viewer = c.get('portal');
  let body;
  try {
    const link = await deps.userLinks.personal(viewer.user.id);
    const svg = await deps.userLinks.qr(link.url, 'svg');
    const src = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
    body = html`<h1>Enroll a device</h1>
      <p>
        Open this link on the device you want to enroll, or scan the QR code with its camera, then
        install the profile it offers.
      </p>
      <p class="qr">
        <img src="${src}" alt="QR code of your enrollment link" width="224" height="224" />
      </p>
      <p><a class="mono" href="${link.url}">${link.url}</a></p>
      <p class="muted">The link is personal: do not share it.</p>`;
  } catch (error) {
    if (!(error instanceof OrchardError) || !error.expose) throw error;
    body = html`<h1>Enroll a device</h1>
      ${notice('error', `You cannot enroll a device yet: ${error.message}. Ask IT for help.`)}`;
  }
  return c.html(portalPage(viewer, 'Enroll a device', body));
}
