/**
 * The invitation mail of a user (rule M9): the personal enrollment link as text and HTML, with
 * its QR code as an inline PNG the HTML shows by content id. Pure: the QR image is made by the
 * caller. Everything user-provided is HTML-escaped, so a name cannot inject markup.
 */
import type { MailMessage } from '../mail/ports.js';
import type { UserRecord } from '../storage/ports.js';

/** The content id of the QR image in an invitation (`<img src="cid:...">`). */
export const INVITATION_QR_CID = 'enrollment-qr@orchard';

/** What an invitation says. */
export interface InvitationInput {
  user: Pick<UserRecord, 'email' | 'username' | 'firstName' | 'lastName'>;
  /** The user's personal enrollment link. */
  url: string;
  /** The link as a QR code, PNG. */
  qrPng: Uint8Array;
  /** When the link expires, if it does. */
  expiresAt?: Date;
  /** Who invites (shown in the subject); default `Orchard`. */
  organization?: string;
  /** The self-service portal's "set your password" link (`/portal/setup?token=...`), if any. */
  portalSetupUrl?: string;
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` safe inside HTML text and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** How the user is greeted: the first name, else the username. */
function greetingName(user: InvitationInput['user']): string {
  return user.firstName ?? user.username;
}

/**
 * Builds the invitation message to `input.user.email`: subject, plain text and HTML carrying the
 * link, and the QR code attached inline (`cid:` {@link INVITATION_QR_CID}). Never throws.
 */
export function invitationMessage(input: InvitationInput): MailMessage {
  const org = input.organization ?? 'Orchard';
  const name = greetingName(input.user);
  const until =
    input.expiresAt === undefined ? '' : ` It works until ${input.expiresAt.toISOString()}.`;
  const text = [
    `Hello ${name},`,
    '',
    `${org} invites you to enroll your device. Open this link on the device (or scan the QR code in this mail with its camera) and install the profile it offers:`,
    '',
    input.url,
    '',
    `The link is personal: do not share it.${until}`,
    ...(input.portalSetupUrl === undefined
      ? []
      : [
          '',
          'To see your devices and install what they offer, set your password for the self-service portal (the link works once, for 7 days):',
          '',
          input.portalSetupUrl,
        ]),
  ].join('\n');
  const html = [
    '<!doctype html><html><body>',
    `<p>Hello ${escapeHtml(name)},</p>`,
    `<p>${escapeHtml(org)} invites you to enroll your device. Open this link on the device, or scan the QR code with its camera, and install the profile it offers:</p>`,
    `<p><a href="${escapeHtml(input.url)}">${escapeHtml(input.url)}</a></p>`,
    `<p><img src="cid:${INVITATION_QR_CID}" alt="enrollment QR code" width="256" height="256"></p>`,
    `<p>The link is personal: do not share it.${escapeHtml(until)}</p>`,
    ...(input.portalSetupUrl === undefined
      ? []
      : [
          `<p>To see your devices and install what they offer, <a href="${escapeHtml(input.portalSetupUrl)}">set your password for the self-service portal</a> (the link works once, for 7 days).</p>`,
        ]),
    '</body></html>',
  ].join('\n');
  return {
    to: input.user.email,
    subject: `${org}: enroll your device`,
    text,
    html,
    attachments: [
      {
        filename: 'enrollment-qr.png',
        content: input.qrPng,
        contentType: 'image/png',
        cid: INVITATION_QR_CID,
      },
    ],
  };
}
