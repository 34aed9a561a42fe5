/**
 * The SMTP mailer against a real SMTP server on 127.0.0.1:0: an invitation arrives with its
 * subject, the link in its text and HTML, and an inline PNG whose QR code decodes to the link; a
 * server that is gone is a 503 `ERR_MAIL` naming no credentials; bad URLs are TypeErrors.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSmtpMailer } from '../../src/mail/smtp.js';
import { INVITATION_QR_CID, invitationMessage } from '../../src/management/invitation.js';
import { qrCode } from '../../src/management/user-links.js';
import { decodeQrPng, startMailSink, type MailSink } from '../support/mail.js';

const LINK = `https://mdm.example.com/enroll/${'A1b2_-'.repeat(7)}x`;

let sink: MailSink;
beforeAll(async () => {
  sink = await startMailSink();
});
afterAll(async () => {
  await sink.close();
});

describe('createSmtpMailer', () => {
  test('ok/an invitation arrives with its link and a QR code that decodes to it', async () => {
    const mailer = createSmtpMailer({ url: sink.url, from: 'orchard@mdm.example.com' });
    const qrPng = (await qrCode(LINK, 'png')) as Uint8Array;
    const user = { email: 'ada@example.com', username: 'ada', firstName: 'Ada <b>' };
    await mailer.send(invitationMessage({ user, url: LINK, qrPng, organization: 'Example' }));
    expect(sink.messages).toHaveLength(1);
    const mail = await sink.next(1);
    expect(mail.from).toBe('orchard@mdm.example.com');
    expect(mail.to).toEqual(['ada@example.com']);
    const { headers, parts } = mail;
    expect(headers.subject).toBe('Example: enroll your device');
    const text = parts.find((p) => p.headers['content-type']?.startsWith('text/plain'));
    const html = parts.find((p) => p.headers['content-type']?.startsWith('text/html'));
    const png = parts.find((p) => p.headers['content-type']?.startsWith('image/png'));
    expect(text?.body.toString('utf8')).toContain(LINK);
    expect(html?.body.toString('utf8')).toContain(`href="${LINK}"`);
    expect(html?.body.toString('utf8')).toContain('Ada &lt;b&gt;');
    expect(html?.body.toString('utf8')).toContain(`cid:${INVITATION_QR_CID}`);
    expect(png?.headers['content-id']).toBe(`<${INVITATION_QR_CID}>`);
    expect(decodeQrPng(png?.body ?? new Uint8Array())).toBe(LINK);
  });

  test('fail/a server that is not there is 503 ERR_MAIL without the credentials', async () => {
    const gone = await startMailSink();
    await gone.close();
    const url = gone.url.replace('smtp://', 'smtp://user:s3cret-pw@');
    const mailer = createSmtpMailer({ url, timeoutMs: 2000 });
    const error = await mailer
      .send({ to: 'a@example.com', subject: 's', text: 't', html: '<p>t</p>' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'ERR_MAIL', status: 503 });
    expect((error as Error).message).not.toContain('s3cret-pw');
  });

  test.each([
    ['fail/not a URL', 'mail.example.com'],
    ['fail/another scheme', 'http://mail.example.com'],
  ])('%s is a TypeError', (_name, url) => {
    expect(() => createSmtpMailer({ url })).toThrow(TypeError);
  });
});
