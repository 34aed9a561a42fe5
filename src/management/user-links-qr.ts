/**
 * What a link shows besides its URL: its QR code (PNG or SVG, with the `qrcode` package), its
 * status in the invitation's life (S9: created, sent, opened, enrolled) and whether it still works.
 */
import type { EnrollmentTokenRecord } from '../storage/ports.js';

/** The image formats of a QR code. */
export type QrFormat = 'png' | 'svg';

/** How far an invitation got: the furthest step reached. */
export type LinkStatus = 'created' | 'sent' | 'opened' | 'enrolled';

/** Whether a link still enrolls, and if not why. */
export type LinkState = 'active' | 'expired' | 'revoked' | 'rotated';

// Error correction M survives a smudged screen or print; 6 pixels a module and a 4-module quiet
// zone scan well from a phone held at arm's length.
const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 4, scale: 6 } as const;

/**
 * The QR code of `text`: PNG bytes for `png`, an SVG document (string) for `svg`. Rejects with
 * TypeError when the text is too long for a QR code.
 */
export async function qrCode(text: string, format: QrFormat): Promise<Uint8Array | string> {
  try {
    // Loaded with the first QR code: a daemon that draws none never holds the package.
    const { default: QRCode } = await import('qrcode');
    if (format === 'svg') return await QRCode.toString(text, { ...QR_OPTIONS, type: 'svg' });
    return new Uint8Array(await QRCode.toBuffer(text, { ...QR_OPTIONS, type: 'png' }));
  } catch (error) {
    throw new TypeError('the link does not fit in a QR code', { cause: error });
  }
}

/** The furthest step `record` reached: enrolled, opened (downloaded), sent or only created. */
export function linkStatus(
  record: Pick<
    EnrollmentTokenRecord,
    'enrolledAt' | 'openedAt' | 'sentAt' | 'enrollments' | 'uses'
  >,
): LinkStatus {
  if (record.enrolledAt !== undefined || record.enrollments > 0) return 'enrolled';
  if (record.openedAt !== undefined || record.uses > 0) return 'opened';
  if (record.sentAt !== undefined) return 'sent';
  return 'created';
}

/** Whether `record` still works at `now`: rotated and revoked first, then expired. */
export function linkState(
  record: Pick<EnrollmentTokenRecord, 'rotatedAt' | 'revokedAt' | 'expiresAt'>,
  now: Date,
): LinkState {
  if (record.rotatedAt !== undefined) return 'rotated';
  if (record.revokedAt !== undefined) return 'revoked';
  if (record.expiresAt !== undefined && record.expiresAt.getTime() <= now.getTime())
    return 'expired';
  return 'active';
}
