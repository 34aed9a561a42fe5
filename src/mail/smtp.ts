/**
 * The SMTP mailer: the {@link Mailer} port over nodemailer, configured by one `smtp://` or
 * `smtps://` URL (credentials in its user-info part). Nothing here logs: a failure becomes an
 * AdminError whose message names the server's host, never the URL with its credentials.
 * nodemailer is loaded with the first message, so a daemon that never sends mail never holds it
 * in memory (about 4 MB).
 */
import type { Transporter } from 'nodemailer';
import { AdminError } from '../errors.js';
import type { Mailer, MailMessage } from './ports.js';

/** Options of {@link createSmtpMailer}. */
export interface SmtpMailerOptions {
  /** `smtp://[user:pass@]host[:port]` (STARTTLS when offered) or `smtps://...` (TLS from the start). */
  url: string;
  /** The sender address; default `orchard@<host of url>`. */
  from?: string;
  /** Connection, greeting and idle-socket timeout in milliseconds; default 10 000. */
  timeoutMs?: number;
}

/** The URL parsed and checked; TypeError naming the problem (never the credentials). */
function parseSmtpUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('the SMTP URL is not a URL (smtp://host[:port] or smtps://...)');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:')
    throw new TypeError(`the SMTP URL must start with smtp:// or smtps://, not ${parsed.protocol}`);
  if (parsed.hostname === '') throw new TypeError('the SMTP URL names no host');
  return parsed;
}

/**
 * Creates a mailer sending through the SMTP server at `options.url`, one connection per message
 * (invitations are rare). Throws TypeError on a URL that is not `smtp://` or `smtps://`; `send`
 * rejects with AdminError `ERR_MAIL` (503) when the server fails, its cause kept for logs.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const url = parseSmtpUrl(options.url);
  const timeout = options.timeoutMs ?? 10_000;
  let transport: Promise<Transporter> | undefined;
  const open = (): Promise<Transporter> =>
    (transport ??= import('nodemailer').then(({ createTransport }) =>
      createTransport({
        url: options.url,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
        logger: false,
        debug: false,
      }),
    ));
  const from = options.from ?? `orchard@${url.hostname}`;
  return {
    async send(message: MailMessage) {
      try {
        await (
          await open()
        ).sendMail({
          from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          attachments: (message.attachments ?? []).map((a) => ({
            filename: a.filename,
            content: Buffer.from(a.content),
            contentType: a.contentType,
            ...(a.cid === undefined ? {} : { cid: a.cid }),
          })),
        });
      } catch (error) {
        throw new AdminError('ERR_MAIL', `the mail server ${url.host} did not take the message`, {
          cause: error,
        });
      }
    },
  };
}
