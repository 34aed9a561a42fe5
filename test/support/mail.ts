/**
 * Mail in tests: a real SMTP server (`smtp-server`, 127.0.0.1:0, no TLS, any login) that keeps
 * every message, a small MIME reader (nested multipart, base64, quoted-printable) for what
 * nodemailer writes, and a QR decoder (pngjs + jsqr) that turns a PNG back into its text.
 */
import type { AddressInfo } from 'node:net';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { SMTPServer } from 'smtp-server';

/** One leaf part of a message: its headers (lower-case names) and its decoded body. */
export interface MimePart {
  headers: Record<string, string>;
  body: Buffer;
}

/** A message the server received: envelope, raw text and decoded leaf parts. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** The top-level headers (lower-case names). */
  headers: Record<string, string>;
  /** Every leaf part, decoded (the whole message when not multipart). */
  parts: MimePart[];
}

/** The running SMTP server and what it received. */
export interface MailSink {
  url: string;
  messages: ReceivedMail[];
  /** Resolves the `n`th message (1-based) once it has arrived. */
  next(n: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

function splitHead(text: string): { headers: Record<string, string>; body: string } {
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeBody(body: string, encoding: string | undefined): Buffer {
  if (encoding?.toLowerCase() === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding?.toLowerCase() === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    return Buffer.from(
      soft.replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) =>
        String.fromCharCode(parseInt(hex, 16)),
      ),
      'latin1',
    );
  }
  return Buffer.from(body, 'latin1');
}

function leafParts(headers: Record<string, string>, body: string): MimePart[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (boundary === undefined)
    return [{ headers, body: decodeBody(body, headers['content-transfer-encoding']) }];
  return body
    .split(`--${boundary}`)
    .slice(1)
    .filter((chunk) => !chunk.startsWith('--'))
    .flatMap((chunk) => {
      const part = splitHead(chunk.replace(/^\r?\n/, ''));
      return leafParts(part.headers, part.body.replace(/\r?\n$/, ''));
    });
}

/** The top-level headers and every leaf part of a (possibly nested multipart) message. */
export function parseMime(raw: string): { headers: Record<string, string>; parts: MimePart[] } {
  const { headers, body } = splitHead(raw);
  return { headers, parts: leafParts(headers, body) };
}

/** Starts the server on 127.0.0.1:0. */
export async function startMailSink(): Promise<MailSink> {
  const messages: ReceivedMail[] = [];
  const waiting: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('latin1');
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        const to = session.envelope.rcptTo.map((r) => r.address);
        messages.push({ from, to, raw, ...parseMime(raw) });
        for (const wake of waiting.splice(0)) wake();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async next(n) {
      while (messages.length < n) await new Promise<void>((wake) => waiting.push(wake));
      return messages[n - 1] as ReceivedMail;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** The text a QR code in PNG `bytes` carries, or `undefined` when none is found. */
export function decodeQrPng(bytes: Uint8Array): string | undefined {
  const png = PNG.sync.read(Buffer.from(bytes));
  // jsqr is CommonJS: under Node's ESM interop its function is the `default` of the module.
  return jsQR.default(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}
