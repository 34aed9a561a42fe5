/**
 * Helpers of the mail tests: a real SMTP server (`smtp-server`) on 127.0.0.1:0 that keeps what
 * it receives, a minimal MIME reader for the messages nodemailer writes, and a QR decoder
 * (pngjs + jsqr) that turns a PNG back into its text.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { SMTPServer } from 'smtp-server';

/** A received message: envelope and raw RFC 5322 text. */
export interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** A running SMTP server and what it received. */
export interface SmtpSink {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** Starts an SMTP server on 127.0.0.1:0 (no TLS, any login) that keeps every message. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** One MIME part: its headers (lower-case names) and decoded body. */
export interface MimePart {
  headers: Record<string, string>;
  body: Buffer;
}

function splitHeaders(text: string): { headers: Record<string, string>; body: string } {
  const at = text.indexOf('\r\n\r\n');
  const head = text.slice(0, at).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: text.slice(at + 4) };
}

function decodeBody(body: string, encoding: string | undefined): Buffer {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding === 'quoted-printable')
    return Buffer.from(
      body
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    );
  return Buffer.from(body, 'utf8');
}

/** The top-level headers and every leaf part of a (possibly nested multipart) message. */
export function parseMime(raw: string): { headers: Record<string, string>; parts: MimePart[] } {
  const top = splitHeaders(raw);
  const parts: MimePart[] = [];
  const walk = (headers: Record<string, string>, body: string) => {
    const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1];
    if (boundary === undefined) {
      parts.push({ headers, body: decodeBody(body, headers['content-transfer-encoding']) });
      return;
    }
    for (const chunk of body.split(`--${boundary}`).slice(1, -1)) {
      const part = splitHeaders(chunk.replace(/^\r\n/, ''));
      walk(part.headers, part.body.replace(/\r\n$/, ''));
    }
  };
  walk(top.headers, top.body);
  return { headers: top.headers, parts };
}

/** The text a QR code PNG holds, or `undefined` when none is found. */
export function decodeQrPng(png: Uint8Array): string | undefined {
  const image = PNG.sync.read(Buffer.from(png));
  // jsqr is CommonJS: under Node's ESM interop its function is the `default` of the module.
  return jsQR.default(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}
