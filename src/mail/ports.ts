/**
 * The mail port: what the management side needs to send an invitation, with no transport in it.
 * `smtp.ts` implements it over nodemailer; tests may give their own.
 */

/** A file carried by a message; with `cid`, an inline part the HTML shows as `cid:<cid>`. */
export interface MailAttachment {
  filename: string;
  content: Uint8Array;
  contentType: string;
  cid?: string;
}

/** One message to one recipient, as plain text and HTML. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments?: readonly MailAttachment[];
}

/** Sends mail. */
export interface Mailer {
  /**
   * Sends `message`; resolves once the mail server accepted it. Rejects with AdminError
   * `ERR_MAIL` (503) when the server cannot be reached or refuses it.
   */
  send(message: MailMessage): Promise<void>;
}
