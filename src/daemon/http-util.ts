/**
 * Small HTTP helpers of the daemon: bounded body reading, JSON answers, and the mapping of
 * errors to JSON `{code, message}` bodies (never 401, never a stack trace).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderError } from '../http/errors.js';
import type { Logger } from '../index.js';
import { AdminError, RequestError } from './errors.js';

/** An answer before it is written. */
export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

/** Reads the whole body, refusing past `limit` bytes with RequestError `ERR_BODY_TOO_LARGE` (413). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit)
    throw new RequestError('ERR_BODY_TOO_LARGE', `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new RequestError('ERR_BODY_TOO_LARGE', `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

/** A JSON answer. */
export function json(status: number, value: unknown): HttpAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(value),
  };
}

/**
 * Maps an error to a JSON answer, always with `code` and `message`, through the edge's one
 * renderer ({@link renderError} in the `admin` format): an OrchardError to its status (its own
 * message when exposable, as every AdminError is, plus the admin `field` at fault and for
 * validation `issues`); anything else to 500 `ERR_INTERNAL` with a log line. Never a 401.
 */
export function errorAnswer(error: unknown, logger: Logger): HttpAnswer {
  return renderError(error, 'admin', logger);
}

/** Writes an answer with a content length. */
export function send(res: ServerResponse, answer: HttpAnswer): void {
  const body =
    answer.body === undefined
      ? Buffer.alloc(0)
      : typeof answer.body === 'string'
        ? Buffer.from(answer.body)
        : answer.body;
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.length) });
  res.end(body);
}

/** Parses a JSON request body: 415 unless `application/json`, 400 when malformed. */
export function parseJsonBody(contentType: string | undefined, body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new AdminError('ERR_UNSUPPORTED_MEDIA', 'the body must be application/json');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (cause) {
    throw new AdminError('ERR_BAD_JSON', 'the body is not valid JSON', { cause });
  }
}
